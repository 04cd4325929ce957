"""JupyterHub with deploy/jupyterhub_config.py, on 127.0.0.1: the instructor grades, the student gets the assignment.

The fast test loads the config and checks what it derives from its settings and the roster. The slow one,
as root, runs it: Unix users for an instructor, a student, an outsider and the grader account that runs the
formgrader service; the wheel from `make student-package` installed with jupyterhub into a root-owned
environment, which runs the hub and every user's server; deploy/ copied out of the repository, as the guide
says; the course (one chapter, a roster) private to the grader; the proxy from `make hub`; the hub on free
ports with the dummy authenticator in place of PAM. Then, through the login form and the proxy as a browser
would: the outsider is refused; the instructor's server starts, its course list finds the formgrader service
(the ``list:services`` permission), the instructor generates and releases the chapter through the formgrader;
the student's server starts without the formgrader or course list, the service refuses the student, the
assignment list shows the released chapter and fetches it into the student's home. The hub is stopped and
no process it started may remain. `pytest -s` prints how long each part took.
"""

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import jupyterhub
import pytest
import requests
from traitlets.config.loader import PyFileConfigLoader

import unix_users
from conftest import ROOT
from hub_session import HubSession

CONFIG = ROOT / "deploy" / "jupyterhub_config.py"
PROXY = ROOT / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"
COURSE_ID, AID, NB = "python-memory", "04-lazy-evaluation", "lazy-evaluation"
SERVICE = f"/services/{COURSE_ID}"
INSTRUCTOR_PLUGINS = {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"}
COURSE_LIST_PLUGIN = "@jupyter/nbgrader:course-list"
PASSWORD = "any"  # the dummy authenticator takes any password; allowed_users still decides who gets in


def load_config(env: dict):
    """deploy/jupyterhub_config.py as JupyterHub loads it, with these settings in the environment."""
    old = dict(os.environ)
    os.environ.update(env)
    try:
        return PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()
    finally:
        os.environ.clear()
        os.environ.update(old)


def test_config_takes_users_from_the_roster_and_gives_instructors_the_formgrader(tmp_path):
    course = tmp_path / "course"
    course.mkdir()
    with pytest.raises(SystemExit, match="is not the course repository"):
        load_config({"PYTHON_MEMORY_COURSE": str(course), "PYTHON_MEMORY_HUB_DIR": str(tmp_path / "hub")})
    shutil.copy(ROOT / "nbgrader_config.py", course)
    (course / "roster.csv").write_text(
        "id,first_name,last_name,email\ns1,A,B,a@example.org\n,,,\ns2,C,D,c@example.org\n")
    settings = {"PYTHON_MEMORY_COURSE": str(course), "PYTHON_MEMORY_INSTRUCTORS": "ada bob",
                "PYTHON_MEMORY_HUB_DIR": str(tmp_path / "hub"), "NBGRADER_EXCHANGE": str(tmp_path / "exchange")}
    c = load_config(settings)

    assert c.Authenticator.allowed_users == {"ada", "bob", "s1", "s2"}
    assert c.JupyterHub.load_groups == {f"nbgrader-{COURSE_ID}": {"users": ["s1", "s2"]},
                                        f"formgrade-{COURSE_ID}": {"users": ["ada", "bob"]}}
    (service,) = c.JupyterHub.services
    assert service["name"] == COURSE_ID and service["user"] == f"grader-{COURSE_ID}"
    assert service["cwd"] == str(course)
    assert service["command"] == [str(course / ".venv" / "bin" / "jupyterhub-singleuser")]
    (role,) = [r for r in c.JupyterHub.load_roles if f"formgrade-{COURSE_ID}" in r.get("groups", [])]
    assert {"list:services", f"access:services!service={COURSE_ID}"} <= set(role["scopes"])
    assert c.JupyterHub.authenticator_class == "pam"

    # each role's settings, in folders every user can read: an instructor's path is a student's after one more folder
    students = c.Spawner.environment["JUPYTER_CONFIG_PATH"].split(os.pathsep)
    instructors = c.Spawner.group_overrides["instructors"]["spawner_override"]["environment"]["JUPYTER_CONFIG_PATH"]
    assert instructors.split(os.pathsep)[1:] == students
    for folder in instructors.split(os.pathsep):
        assert Path(folder).stat().st_mode & 0o005 == 0o005, f"{folder} is not readable by every user"
    nbgrader_config = (Path(students[-1]) / "nbgrader_config.py").read_text()
    assert str(tmp_path / "exchange") in nbgrader_config

    # a list in the environment replaces the roster
    c = load_config({**settings, "PYTHON_MEMORY_STUDENTS": "s9"})
    assert c.Authenticator.allowed_users == {"ada", "bob", "s9"}


def require_proxy():
    if not os.access(PROXY, os.X_OK):
        reason = f"{PROXY} is missing: `make hub` installs configurable-http-proxy from npm"
        if os.environ.get("CI"):  # CI must start a real hub, not skip it
            pytest.fail(reason)
        pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def timed(label: str, start: float) -> float:
    print(f"{time.monotonic() - start:6.1f} s  {label}")
    return time.monotonic()


def user_environment(base: Path, user) -> Path:
    """The wheel from `make student-package` and this JupyterHub, in a root-owned venv every user can run."""
    dist = base / "dist"
    build = subprocess.run(["make", "-s", "student-package", f"DIST={dist}"], cwd=ROOT, capture_output=True, text=True)
    assert build.returncode == 0, f"make student-package failed\n{build.stdout}{build.stderr}"
    (wheel,) = dist.glob("python_memory_course-*.whl")
    env = base / "user-env"
    subprocess.run([str(unix_users.usable_python(user)), "-m", "venv", str(env)], check=True)
    pip = subprocess.run([str(env / "bin" / "pip"), "install", "--quiet", "--disable-pip-version-check", str(wheel),
                          f"jupyterhub=={jupyterhub.__version__}"], capture_output=True, text=True, timeout=1200)
    assert pip.returncode == 0, f"pip install of the wheel failed\n{pip.stdout[-3000:]}{pip.stderr[-3000:]}"
    return env


def course_environment(grader, fallback: Path) -> Path:
    """The project's .venv for the formgrader, as in production, when the grader can run it; else ``fallback``.

    Here the .venv's Python may be pyenv's under /root, which other users cannot reach.
    """
    project = ROOT / ".venv"
    try:
        probe = unix_users.run(grader, [project / "bin" / "python", "-c", "import nbgrader, jupyterhub, autograder"],
                               check=False)
        if probe.returncode == 0:
            return project
    except PermissionError:
        pass
    return fallback


def course_for(grader, base: Path, students: list) -> Path:
    """One chapter of the course with its config and a roster, private to the grader account."""
    course = base / "course"
    (course / "source").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "source" / AID, course / "source" / AID)
    rows = "".join(f"{name},First,Last,{name}@example.org\n" for name in students)
    (course / "roster.csv").write_text("id,first_name,last_name,email\n" + rows)
    unix_users.give(grader, course)
    course.chmod(0o700)
    return course


def processes(uids: set, marker: str) -> list:
    """(pid, command) of every process run by one of ``uids`` or whose command line holds ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            uid = entry.stat().st_uid
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()
        except OSError:
            continue
        if uid in uids or marker in command:
            found.append((int(entry.name), command))
    return found


@contextmanager
def running_hub(base: Path, user_env: Path, settings: dict, api_port: int, proxy_api_port: int):
    """JupyterHub with the course's config and the dummy authenticator; stopped, with all it started, on exit.

    As the guide says: the config copied out of the repository, the hub run from the users' environment,
    both root's own.
    """
    config = base / "etc-jupyterhub"
    config.mkdir()
    for source in CONFIG.parent.glob("*.py"):
        shutil.copy(source, config)
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("NBGRADER_", "JUPYTER_", "PYTEST_")) and k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env.update(settings)
    log_path = base / "jupyterhub.log"
    with log_path.open("w") as log:
        hub = subprocess.Popen(
            [str(user_env / "bin" / "jupyterhub"), "-f", str(config / CONFIG.name),
             "--JupyterHub.authenticator_class=dummy",
             f"--JupyterHub.hub_bind_url=http://127.0.0.1:{api_port}",
             f"--ConfigurableHTTPProxy.api_url=http://127.0.0.1:{proxy_api_port}"],
            cwd=base, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    failed = True
    try:
        url, deadline = settings["PYTHON_MEMORY_HUB_URL"], time.monotonic() + 120
        while True:
            assert hub.poll() is None, f"JupyterHub exited ({hub.returncode})\n{log_path.read_text()[-4000:]}"
            try:  # the hub adds its own route to the proxy last, after starting the formgrader service
                if requests.get(f"{url}/hub/api/", timeout=5).status_code == 200:
                    break
            except requests.ConnectionError:
                pass
            assert time.monotonic() < deadline, f"JupyterHub did not answer in 120 s\n{log_path.read_text()[-4000:]}"
            time.sleep(0.5)
        yield hub
        failed = False
    finally:
        hub.send_signal(signal.SIGTERM)  # the hub stops the servers, the service and the proxy it started
        try:
            hub.wait(timeout=60)
        except subprocess.TimeoutExpired:
            hub.kill()
            hub.wait()
        if failed:
            print(f"JupyterHub's log, last lines:\n{log_path.read_text()[-6000:]}")


def page_config(html: str) -> dict:
    found = re.search(r'<script id="jupyter-config-data" type="application/json">(.*?)</script>', html, re.S)
    assert found, "no page config in JupyterLab's page"
    return json.loads(found.group(1))


@pytest.mark.slow
def test_instructor_and_student_on_the_hub():
    unix_users.require_root()
    require_proxy()
    start = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="pm-hub-"))
    base.chmod(0o755)  # users reach their environment, the exchange and their settings below it
    users = {}
    try:
        for role in ("instructor", "student", "outsider", "grader"):
            users[role] = unix_users.create(role[:3])
        instructor, student, outsider, grader = (users[r] for r in ("instructor", "student", "outsider", "grader"))
        user_env = user_environment(base, student)
        start = timed(f"the users' environment: the student wheel and jupyterhub {jupyterhub.__version__}", start)
        course = course_for(grader, base, [student.name])
        exchange = base / "exchange"
        exchange.mkdir()
        exchange.chmod(0o777)
        course_env = course_environment(grader, user_env)
        url, ports = f"http://127.0.0.1:{free_port()}", [free_port() for _ in range(3)]
        settings = {
            "PYTHON_MEMORY_COURSE": str(course), "PYTHON_MEMORY_COURSE_ENV": str(course_env),
            "PYTHON_MEMORY_USER_ENV": str(user_env), "PYTHON_MEMORY_GRADER": grader.name,
            "PYTHON_MEMORY_INSTRUCTORS": instructor.name, "NBGRADER_EXCHANGE": str(exchange),
            "PYTHON_MEMORY_HUB_DIR": str(base / "hub"), "PYTHON_MEMORY_HUB_URL": url,
            "PYTHON_MEMORY_FORMGRADER_PORT": str(ports[0]), "PYTHON_MEMORY_PROXY": str(PROXY),
        }
        uids = {u.uid for u in users.values()}
        marker = f"--api-port {ports[2]}"  # the proxy's command line: it runs as root
        try:
            with running_hub(base, user_env, settings, ports[1], ports[2]):
                start = timed(f"JupyterHub {requests.get(url + '/hub/api/').json()['version']} and the formgrader "
                              f"service up (formgrader from {course_env})", start)
                check_outsider(url, outsider)
                check_instructor(url, instructor, exchange)
                start = timed("the instructor: server, course list, formgrader, chapter generated and released", start)
                check_student(url, student, course)
                start = timed("the student: server, no instructor tools, the released chapter listed and fetched",
                              start)
        finally:
            start = timed("JupyterHub stopped, with the servers, the service and the proxy", start)
            left = processes(uids, marker)
            for pid, _ in left:
                os.kill(pid, signal.SIGKILL)
        assert not left, "processes outlived the hub:\n" + "\n".join(f"{pid} {cmd}" for pid, cmd in left)
    finally:
        for user in users.values():
            unix_users.remove(user)
        shutil.rmtree(base, ignore_errors=True)
        timed("users and files removed", start)


def check_outsider(url: str, outsider):
    """A Unix user who is on neither list cannot log in."""
    session = HubSession(url, outsider.name)
    answer = session.login(PASSWORD)
    assert answer.status_code == 403 and not session.logged_in(), \
        f"{outsider.name}, in neither the roster nor the instructors, logged in ({answer.status_code})"


def check_instructor(url: str, instructor, exchange: Path):
    session = HubSession(url, instructor.name)
    assert session.login(PASSWORD).status_code == 302 and session.logged_in(), "the instructor could not log in"
    print(f"         the instructor's server started in {session.start_server():.1f} s")

    # the course list finds the formgrader service through the hub's services API
    courses = session.get(f"/user/{instructor.name}/formgraders")
    assert courses.status_code == 200, f"the instructor's course list answered {courses.status_code}"
    assert courses.json() == {"success": True, "value": [
        {"course_id": COURSE_ID, "url": f"{url}{SERVICE}/lab?formgrader=true", "kind": "jupyterhub"}]}, \
        f"the course list does not show the formgrader service: {courses.text[:2000]}"
    lab = page_config(session.page(f"/user/{instructor.name}/lab").text)
    assert COURSE_LIST_PLUGIN not in lab["disabledExtensions"], "the course list is off in the instructor's JupyterLab"
    assert INSTRUCTOR_PLUGINS <= set(lab["disabledExtensions"]), "the instructor's own server shows the formgrader"
    assert session.get(f"/user/{instructor.name}/formgrader").status_code == 404

    # the formgrader service, behind the hub's login: generate and release the chapter there
    formgrader = session.page(f"{SERVICE}/formgrader")
    assert formgrader.status_code == 200 and formgrader.url.startswith(f"{url}{SERVICE}/formgrader"), \
        f"the instructor cannot open the formgrader: {formgrader.status_code} at {formgrader.url}"
    assert "nbgrader formgrade" in formgrader.text
    for action in ("assign", "release"):
        done = session.post(f"{SERVICE}/formgrader/api/assignment/{AID}/{action}")
        assert done.status_code == 200 and done.json()["success"], \
            f"the formgrader's {action} failed: {done.status_code}\n{done.text[-3000:]}"
    assert (exchange / COURSE_ID / "outbound" / AID / f"{NB}.ipynb").is_file(), "nothing was released into the exchange"


def check_student(url: str, student, course: Path):
    session = HubSession(url, student.name)
    assert session.login(PASSWORD).status_code == 302 and session.logged_in(), "the student could not log in"
    print(f"         the student's server started in {session.start_server():.1f} s")

    # no instructor tools, neither in the server nor through the hub, and no way into the course
    lab = page_config(session.page(f"/user/{student.name}/lab").text)
    assert INSTRUCTOR_PLUGINS | {COURSE_LIST_PLUGIN} <= set(lab["disabledExtensions"]), \
        "the student's JupyterLab shows instructor tools"
    for path in ("formgrader", "formgraders"):
        answer = session.get(f"/user/{student.name}/{path}")
        assert answer.status_code == 404, f"the student's server answers /{path} with {answer.status_code}"
    refused = session.page(f"{SERVICE}/formgrader")
    assert refused.status_code == 403, f"the formgrader service let the student in ({refused.status_code})"
    peek = unix_users.run(student, ["cat", course / "source" / AID / f"{NB}.ipynb"], check=False)
    assert peek.returncode != 0, "the student can read the course's source/ (solutions)"

    # the released chapter, in the Assignment List's API, then fetched into the student's home
    listed = session.get(f"/user/{student.name}/assignments?course_id={COURSE_ID}")
    assert listed.status_code == 200 and listed.json()["success"], f"the assignment list failed: {listed.text[:2000]}"
    assert [(a["assignment_id"], a["status"]) for a in listed.json()["value"]] == [(AID, "released")], \
        f"the student does not see the released chapter: {listed.text[:2000]}"
    fetched = session.post(f"/user/{student.name}/assignments/fetch",
                           json={"course_id": COURSE_ID, "assignment_id": AID})
    assert fetched.status_code == 200 and [a["status"] for a in fetched.json()["value"]] == ["fetched"], \
        f"the student could not fetch the chapter: {fetched.text[:2000]}"
    notebook = student.home / AID / f"{NB}.ipynb"
    assert notebook.is_file() and notebook.stat().st_uid == student.uid, f"no {notebook} owned by the student"
