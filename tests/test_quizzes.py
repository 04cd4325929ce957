"""Every quiz of the course, read from source/: fair to a blind guesser, graded by a hidden check, and able to
tell right from wrong in the learner's notebook through the key generation writes into release/.

Fast: reads notebook JSON and calls the quiz checks directly; no kernel, no nbgrader.
"""

import ast
import json
import os
import re
from collections import Counter
from dataclasses import dataclass

import nbformat
import pytest

import course
from autograder import CheckFailed, grader, hidden, quiz, quiz_keys
from autograder.quiz_stamp import StampQuizKeys
from conftest import ROOT

BLIND_LIMIT = 0.35  # no blind strategy may score more than this share of the multiple-choice questions
PREDICTION_SHARE = 0.20  # at least this share of all questions ask about a measurement or chart of the chapter
KEYED_SHARE = 0.90  # at least this share tell right from wrong in the visible cell
LENGTH_RATIO = 1.75  # the longest prose option at most this many times the shortest
PREDICTION_TAG = "quiz-prediction"
OPTION = re.compile(r"^\* ([a-z])\) (.+)$")
VISIBLE = re.compile(r'^quiz\.check_answer\(q(\d+), "Q(\d+)"(, .*)?\)$')


@dataclass
class Question:
    aid: str
    number: int
    text: str
    options: dict  # letter -> text
    prediction: bool
    answer: str  # what the solution cell sets
    check: dict  # the hidden check (autograder.quiz_keys.hidden_check)
    visible: str  # the visible part of the test cell

    @property
    def label(self):
        return f"{self.aid} Q{self.number}"


def _meta(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def _notebook(folder, aid):
    (path,) = (ROOT / folder / aid).glob("*.ipynb")
    return nbformat.read(path, as_version=4)


def read_quiz(aid):
    """The questions of one chapter's source notebook, in order."""
    cells = _notebook("source", aid).cells
    questions = []
    for i, cell in enumerate(cells):
        match = re.fullmatch(r"q(\d+)", _meta(cell).get("grade_id", ""))
        if not match:
            continue
        n = int(match.group(1))
        text = cells[i - 1].source
        assert cells[i - 1].cell_type == "markdown" and text.startswith(f"**Q{n}.**"), \
            f"{aid} Q{n}: the cell before the answer cell must be the question, starting **Q{n}.**"
        test = cells[i + 1]
        assert _meta(test).get("grade_id") == f"test_q{n}", f"{aid} Q{n}: the test cell must follow the answer cell"
        options = dict(m.groups() for m in map(OPTION.match, text.splitlines()) if m)
        solved = ast.literal_eval(re.findall(rf"^q{n} = (.+)$", without_markers(cell.source), re.M)[-1])
        visible, _ = hidden.split(test.source)
        questions.append(Question(aid, n, text, options, PREDICTION_TAG in cells[i - 1].metadata.get("tags", []),
                                  solved, quiz_keys.hidden_check(test.source), visible.strip()))
    return questions


def without_markers(source):
    """A solution cell without its solution markers: the answer is the last assignment."""
    return "\n".join(line for line in source.splitlines() if not line.startswith("### "))


def all_questions():
    return [q for aid in course.assignments() for q in read_quiz(aid)]


QUESTIONS = all_questions()
CHOICE = [q for q in QUESTIONS if q.check and q.check["check"] == "check_choice"]


def test_every_chapter_has_a_quiz():
    assert {q.aid for q in QUESTIONS} == set(course.assignments())
    for aid in course.assignments():
        numbers = [q.number for q in QUESTIONS if q.aid == aid]
        assert numbers == list(range(1, len(numbers) + 1)), f"{aid}: questions are numbered {numbers}"


@pytest.mark.parametrize("q", QUESTIONS, ids=lambda q: q.label)
def test_every_question_is_graded_by_a_hidden_check(q):
    assert q.check is not None, f"{q.label}: the test cell needs exactly one hidden check_choice or check_short"
    assert q.check.get("question") == f"Q{q.number}", f"{q.label}: the hidden check names {q.check.get('question')}"
    assert q.check["answer"] == f"q{q.number}", f"{q.label}: the hidden check reads {q.check['answer']}"
    assert q.check["explanation"].strip(), f"{q.label}: the hidden check has no explanation"
    visible = VISIBLE.match(q.visible)
    assert visible and visible.group(1) == visible.group(2) == str(q.number), \
        f"{q.label}: the visible part must be one line, quiz.check_answer(q{q.number}, \"Q{q.number}\")"
    if q.check["check"] == "check_choice":
        letters = "".join(q.options)
        assert len(letters) >= 3 and letters == "abcdefgh"[:len(letters)], f"{q.label}: options {letters}"
        assert q.check["expected"] in q.options, f"{q.label}: the right letter {q.check['expected']} is no option"
        assert q.answer == q.check["expected"], f"{q.label}: the solution says {q.answer}, the hidden check " \
            f"{q.check['expected']}"
        assert letters == "abcd" or f'"{letters}"' in q.visible, f"{q.label}: pass {letters} to check_answer"
    else:
        quiz.check_short(q.answer, q.check["accepted"], "", q.label, q.check.get("tolerance", 0.0))


def _length(option):
    return len(re.sub(r"[`*]", "", option))


def _rank_scores(questions, pick):
    """What always picking the option ``pick`` positions from the longest (-1: the shortest) scores, ties shared."""
    total = 0.0
    for q in questions:
        by_rank = sorted(q.options, key=lambda letter: -_length(q.options[letter]))
        chosen_length = _length(q.options[by_rank[pick]])
        tied = [letter for letter in q.options if _length(q.options[letter]) == chosen_length]
        total += (q.check["expected"] in tied) / len(tied)
    return total / len(questions)


def test_no_blind_strategy_scores_over_35_percent():
    assert len(CHOICE) >= 40, "the course's quizzes should have at least 40 multiple-choice questions"
    letters = Counter(q.check["expected"] for q in CHOICE)
    for letter, count in sorted(letters.items()):
        assert count / len(CHOICE) <= BLIND_LIMIT, \
            f'always answering "{letter}" scores {count / len(CHOICE):.0%} of the quizzes ({dict(letters)})'
    strategies = {"the longest option": 0, "the second longest": 1, "the second shortest": -2, "the shortest": -1}
    for name, pick in strategies.items():
        score = _rank_scores(CHOICE, pick)
        assert score <= BLIND_LIMIT, f"always choosing {name} scores {score:.0%} of the quizzes"
    # counted without sharing ties, too: a learner who breaks ties well must not beat the limit either
    for name, extreme in (("longest", max), ("shortest", min)):
        hits = sum(_length(q.options[q.check["expected"]]) == extreme(map(_length, q.options.values())) for q in CHOICE)
        assert hits / len(CHOICE) <= BLIND_LIMIT, f"the right option is (one of) the {name} in {hits} of {len(CHOICE)}"


@pytest.mark.parametrize("q", CHOICE, ids=lambda q: q.label)
def test_options_have_similar_lengths(q):
    prose = [o for o in q.options.values() if not re.fullmatch(r"`[^`]*`", o)]
    if len(prose) < len(q.options):
        return  # options that are code are as long as the code they show
    lengths = [_length(o) for o in prose]
    assert max(lengths) <= LENGTH_RATIO * min(lengths), f"{q.label}: option lengths {lengths}"


def test_a_fifth_of_the_questions_ask_about_a_measurement_or_chart():
    predictions = [q for q in QUESTIONS if q.prediction]
    assert len(predictions) >= PREDICTION_SHARE * len(QUESTIONS), \
        f"{len(predictions)} of {len(QUESTIONS)} questions are tagged {PREDICTION_TAG!r}"
    for q in predictions:
        # a prediction is about something the chapter measured or drew: it names the section that did
        sections = {int(s) for s in re.findall(r"\b[Ss]ection (\d+)", q.text)}
        headings = {int(h) for c in _notebook("source", q.aid).cells if c.cell_type == "markdown"
                    for h in re.findall(r"^## (\d+)\.", c.source, re.M)}
        assert sections and sections <= headings, f"{q.label} is tagged {PREDICTION_TAG!r} but names no section of " \
            f"its chapter that measured it (names {sorted(sections)}, chapter has {sorted(headings)})"


def _release_keys(aid):
    cells = _notebook("release", aid).cells
    return {int(_meta(c)["grade_id"][6:]): quiz_keys.visible_key(c.source) for c in cells
            if re.fullmatch(r"test_q\d+", _meta(c).get("grade_id", ""))}


def test_released_quizzes_carry_keys_made_from_the_hidden_checks():
    keyed = 0
    for aid in course.assignments():
        keys = _release_keys(aid)
        for q in (q for q in QUESTIONS if q.aid == aid):
            expected = quiz_keys.key_for(q.check)
            assert keys.get(q.number) == expected, f"{q.label}: release/ holds a stale quiz key: run `make release`"
            keyed += expected is not None
    assert keyed >= KEYED_SHARE * len(QUESTIONS), \
        f"only {keyed} of {len(QUESTIONS)} questions can tell right from wrong"


@pytest.mark.parametrize("q", CHOICE, ids=lambda q: q.label)
def test_a_key_opens_for_the_right_letter_only(q):
    key = quiz_keys.key_for(q.check)
    assert quiz_keys.open_key(key, q.check["expected"]) == q.check["explanation"]
    for letter in q.options:
        if letter != q.check["expected"]:
            assert quiz_keys.open_key(key, letter) is None, f"{q.label}: the key opens for {letter!r}"
    assert q.check["explanation"] not in key and f'"{q.check["expected"]}"' not in key


@pytest.fixture
def kernel(monkeypatch):
    """The learner's kernel: no nbgrader, no explanation override."""
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    monkeypatch.delenv(quiz.EXPLAIN_ENV, raising=False)


class LyingStr(str):
    def __eq__(self, other):
        return True

    __hash__ = str.__hash__


def test_the_released_cell_says_right_or_wrong_at_once(kernel, capsys):
    q = next(q for q in CHOICE if q.aid == "04-lazy-evaluation" and q.number == 2)
    key = _release_keys(q.aid)[q.number]
    quiz.check_answer(q.check["expected"].upper(), "Q2", key=key)
    assert capsys.readouterr().out.strip() == f"✓ Q2: right. {q.check['explanation']}"
    wrong = next(letter for letter in q.options if letter != q.check["expected"])
    with pytest.raises(CheckFailed, match=rf"^Q2: '{wrong}' is not right; change your answer and run this cell again$"):
        quiz.check_answer(wrong, "Q2", key=key)
    assert q.check["explanation"] not in capsys.readouterr().out
    for lookalike in (LyingStr(q.check["expected"]), LyingStr(wrong)):
        with pytest.raises(CheckFailed, match=r"^Q2: answer with a plain str such as \"a\", not an object of type "
                                              r"LyingStr"):
            quiz.check_answer(lookalike, "Q2", key=key)
        with pytest.raises(CheckFailed, match="not an object of type LyingStr"):
            quiz.check_choice(lookalike, q.check["expected"], q.check["explanation"], "Q2")


@pytest.mark.parametrize("explain", [None, "1"])
def test_while_autograding_the_visible_cell_only_checks_the_form(monkeypatch, capsys, explain):
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    if explain is None:
        monkeypatch.delenv(quiz.EXPLAIN_ENV, raising=False)
    else:
        monkeypatch.setenv(quiz.EXPLAIN_ENV, explain)
    q = next(q for q in CHOICE if q.aid == "04-lazy-evaluation" and q.number == 2)
    key = _release_keys(q.aid)[q.number]
    for answer in q.options:  # right and wrong alike: no verdict, no explanation
        quiz.check_answer(answer, "Q2", key=key)
        assert capsys.readouterr().out.strip() == "✓ Q2: answered"
    with pytest.raises(CheckFailed, match=r'^Q2: no answer yet; set it to one of "a", "b", "c", "d"$'):
        quiz.check_answer(None, "Q2", key=key)


def test_short_answers_are_keyed_by_their_accepted_words(kernel, capsys):
    source = ('quiz.check_answer(q8, "Q8", str)\n### BEGIN HIDDEN TESTS\n'
              'quiz.check_short(q8, ["reference counting", "refcounting"], "Counts free it at once.", "Q8")\n'
              '### END HIDDEN TESTS')
    stamped = quiz_keys.stamp(source)
    assert stamped.splitlines()[0].startswith('quiz.check_answer(q8, "Q8", str, key="k1')
    assert stamped.splitlines()[1:] == source.splitlines()[1:] and quiz_keys.stamp(stamped) == stamped
    key = quiz_keys.visible_key(stamped)
    quiz.check_answer("  Reference   `counting`. ", "Q8", str, key=key)
    assert capsys.readouterr().out.strip() == "✓ Q8: right. Counts free it at once."
    with pytest.raises(CheckFailed, match="^Q8: 'garbage collection' is not right"):
        quiz.check_answer("garbage collection", "Q8", str, key=key)
    # a number within a tolerance cannot be hashed honestly: no key, and the visible cell says the grader decides
    tolerant = source.replace('"Q8")\n', '"Q8", tolerance=0.1)\n')
    tolerant = tolerant.replace('["reference counting", "refcounting"]', "[40]")
    assert quiz_keys.visible_key(quiz_keys.stamp(tolerant)) is None
    quiz.check_answer(41, "Q8", (int, float))
    assert capsys.readouterr().out.strip() == "✓ Q8: answered (the grader checks the answer)"


def test_generation_can_leave_the_keys_out():
    source = next(c.source for c in _notebook("source", "04-lazy-evaluation").cells
                  if _meta(c).get("grade_id") == "test_q1")
    cell = nbformat.v4.new_code_cell(quiz_keys.stamp(source), metadata={"nbgrader": {"grade": True, "solution": False}})
    StampQuizKeys(enabled=False).preprocess_cell(cell, {}, 0)
    assert quiz_keys.visible_key(cell.source) is None and hidden.split(cell.source)[1] == hidden.split(source)[1]
    StampQuizKeys().preprocess_cell(cell, {}, 0)
    assert quiz_keys.visible_key(cell.source) == quiz_keys.key_for(quiz_keys.hidden_check(source))


def test_the_trusted_grader_refuses_lookalike_answers_and_explains_nothing_to_instructors(tmp_path):
    """Graded as `nbgrader autograde` grades: the answers in the sandboxed learner process, the checks in the grader."""
    nb = _notebook("source", "04-lazy-evaluation")
    answers = {"q2": 'class Sneaky(str):\n    def __eq__(self, other):\n        return True\n\n'
                     '    __hash__ = str.__hash__\n\nq2 = Sneaky("b")',
               "q3": 'q3 = "B"', "q4": 'q4 = "a"'}
    keep = {"setup", *answers, *(f"test_{g}" for g in answers)}
    cells = [c for c in nb.cells if _meta(c).get("grade_id") in keep]
    for cell in cells:
        cell.source = answers.get(_meta(cell)["grade_id"], quiz_keys.stamp(cell.source))
    nb.cells = cells
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NBGRADER_EXECUTION": "autograde", "MPLBACKEND": "Agg"}
    env.pop(quiz.EXPLAIN_ENV, None)
    result = grader.run_in_subprocess({"notebook": nb, "cwd": str(tmp_path), "timeout": 60}, env=env, timeout=300)
    failed = {gid: message.splitlines()[0] for gid, message in grader.failures(nb, result).items()}  # the seed follows
    assert failed.get("test_q2") == 'CheckFailed: Q2: answer with a plain str such as "a", not an object of type ' \
                                   "Sneaky (its comparisons could lie)"
    assert "test_q3" not in failed, failed
    assert failed.get("test_q4") == "CheckFailed: Q4: 'a' is not right.", failed
    shown = json.dumps(result["cells"])
    for q in (q for q in QUESTIONS if q.aid == "04-lazy-evaluation"):
        assert q.check["explanation"] not in shown, f"Q{q.number}'s explanation shows while an instructor autogrades"
