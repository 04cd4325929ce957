"""JupyterHub for the Python Memory course on one server, with nbgrader: instructors, students, the formgrader.

Run it as root, since the hub starts each user's server as that Unix user; so keep the hub's files root's own:
this folder copied out of the course repository, the users' environment, the proxy (course/instructor-guide.md,
"A JupyterHub for the class"):

    PYTHON_MEMORY_COURSE=/home/grader-python-memory/python-memory PYTHON_MEMORY_INSTRUCTORS="alice" \
        /opt/python-memory/bin/jupyterhub -f /etc/jupyterhub/jupyterhub_config.py

* Users log in with their Unix accounts (PAM). Students are the ``id`` column of the course's roster.csv; they
  are in the group ``nbgrader-python-memory``, instructors in ``formgrade-python-memory`` (nbgrader's names).
* Everyone's server runs from the user environment: the wheel from ``make student-package`` and jupyterhub,
  never the course repository. Students get ``python-memory student-setup``'s settings; instructors also get
  nbgrader's course list, which finds the formgrader through the hub's services API (``list:services``).
* The formgrader is a hub service named after the course, a JupyterLab of the grader account in the course
  repository; only the ``formgrade-python-memory`` group may open it.

Settings, from the environment (default in brackets):

  PYTHON_MEMORY_COURSE          the course repository, the grader's own [the one holding this file]
  PYTHON_MEMORY_COURSE_ENV      the environment the formgrader runs from [<course>/.venv]
  PYTHON_MEMORY_USER_ENV        the users' environment [/opt/python-memory]
  PYTHON_MEMORY_GRADER          the Unix account that owns the course and runs the formgrader [grader-python-memory]
  PYTHON_MEMORY_INSTRUCTORS     instructors' login names, space-separated [none]
  PYTHON_MEMORY_STUDENTS        students' login names, space-separated [the id column of <course>/roster.csv]
  NBGRADER_EXCHANGE             the exchange root, shared by all users [/srv/nbgrader/exchange]
  PYTHON_MEMORY_HUB_DIR         the hub's database, cookie secret and the users' settings [/srv/jupyterhub]
  PYTHON_MEMORY_HUB_URL         where the hub listens [http://127.0.0.1:8000]; put an HTTPS proxy in front
  PYTHON_MEMORY_FORMGRADER_PORT the formgrader service's port on 127.0.0.1 [9999]
  PYTHON_MEMORY_PROXY           configurable-http-proxy [`make hub`'s beside this folder, else the one on PATH]
"""

import csv
import os
import sys
from pathlib import Path

c = get_config()  # noqa: F821 -- provided by JupyterHub when it loads this file

COURSE_ID = "python-memory"  # nbgrader's course id: the service's name and the groups' suffix
STUDENTS_GROUP, INSTRUCTORS_GROUP = f"nbgrader-{COURSE_ID}", f"formgrade-{COURSE_ID}"
SYSTEM_PATH = "/usr/local/bin:/usr/bin:/bin"

HERE = Path(__file__).resolve().parent
COURSE = Path(os.environ.get("PYTHON_MEMORY_COURSE", HERE.parent))
COURSE_ENV = Path(os.environ.get("PYTHON_MEMORY_COURSE_ENV", COURSE / ".venv"))
USER_ENV = Path(os.environ.get("PYTHON_MEMORY_USER_ENV", "/opt/python-memory"))
GRADER = os.environ.get("PYTHON_MEMORY_GRADER", f"grader-{COURSE_ID}")
EXCHANGE = os.environ.get("NBGRADER_EXCHANGE", "/srv/nbgrader/exchange")
HUB_DIR = Path(os.environ.get("PYTHON_MEMORY_HUB_DIR", "/srv/jupyterhub"))
HUB_URL = os.environ.get("PYTHON_MEMORY_HUB_URL", "http://127.0.0.1:8000")
FORMGRADER_PORT = int(os.environ.get("PYTHON_MEMORY_FORMGRADER_PORT", "9999"))
# `make hub`'s, when this file is in a repository checkout (it runs as root: never the grader's copy)
LOCAL_PROXY = HERE.parent / ".hub" / "node_modules" / ".bin" / "configurable-http-proxy"
PROXY = os.environ.get("PYTHON_MEMORY_PROXY", str(LOCAL_PROXY) if LOCAL_PROXY.exists() else "configurable-http-proxy")


def roster_ids(roster: Path) -> list:
    """The login names in the roster's ``id`` column (course/roster-example.csv shows the columns)."""
    if not roster.exists():
        return []
    with roster.open(newline="", encoding="utf-8") as f:
        return [row["id"].strip() for row in csv.DictReader(f) if row.get("id", "").strip()]


if not (COURSE / "nbgrader_config.py").is_file():
    raise SystemExit(f"{COURSE} is not the course repository (no nbgrader_config.py): set PYTHON_MEMORY_COURSE")

INSTRUCTORS = os.environ.get("PYTHON_MEMORY_INSTRUCTORS", "").split()
STUDENTS = (os.environ["PYTHON_MEMORY_STUDENTS"].split() if "PYTHON_MEMORY_STUDENTS" in os.environ
            else roster_ids(COURSE / "roster.csv"))

# The hub's own state stays private to it.
HUB_DIR.mkdir(parents=True, exist_ok=True)
HUB_DIR.chmod(0o755)  # the users' settings below it must be reachable
STATE = HUB_DIR / "state"
STATE.mkdir(exist_ok=True)
STATE.chmod(0o700)
c.JupyterHub.bind_url = HUB_URL
c.JupyterHub.db_url = f"sqlite:///{STATE / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(STATE / "jupyterhub_cookie_secret")
c.ConfigurableHTTPProxy.command = [PROXY]
c.ConfigurableHTTPProxy.pid_file = str(STATE / "jupyterhub-proxy.pid")

# Who may log in, and nbgrader's groups: JupyterHubAuthPlugin reads a user's courses from them.
c.JupyterHub.authenticator_class = "pam"
c.Authenticator.allowed_users = set(INSTRUCTORS) | set(STUDENTS)
c.JupyterHub.load_groups = {
    STUDENTS_GROUP: {"users": STUDENTS},
    INSTRUCTORS_GROUP: {"users": INSTRUCTORS},
}
# Instructors open the formgrader service; their course list finds it through the services API.
# Students need no role beyond the default: nbgrader reads their groups with their own server's token.
c.JupyterHub.load_roles = [
    {
        "name": INSTRUCTORS_GROUP,
        "description": f"Grade {COURSE_ID}: open its formgrader, which the course list finds",
        "groups": [INSTRUCTORS_GROUP],
        "scopes": [f"access:services!service={COURSE_ID}", "list:services", f"read:services!service={COURSE_ID}"],
    },
]

# The formgrader: the grader account's JupyterLab in the course repository, behind the hub's login.
c.JupyterHub.services = [
    {
        "name": COURSE_ID,  # nbgrader's course list looks the formgrader up by the course id
        "url": f"http://127.0.0.1:{FORMGRADER_PORT}",
        "command": [str(COURSE_ENV / "bin" / "jupyterhub-singleuser")],
        "user": GRADER,
        "cwd": str(COURSE),
        "environment": {
            # straight to the formgrader: JupyterHub >= 4.1 forbids the frame JupyterLab would show it in
            "JUPYTERHUB_DEFAULT_URL": "/formgrader",
            "NBGRADER_EXCHANGE": EXCHANGE,
            # nbgrader starts alembic and other tools from PATH
            "PATH": f"{COURSE_ENV / 'bin'}:{SYSTEM_PATH}",
        },
        "oauth_no_confirm": True,  # the course's own service: no "authorize access" page for instructors
    },
]

# Users' servers: the user environment as each Unix user, in their home, with their role's settings.
sys.path.insert(0, str(HERE))
import user_config  # noqa: E402 -- beside this file

ROLE_PATHS = user_config.write(HUB_DIR / "jupyter", EXCHANGE)
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(USER_ENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.env_keep = ["LANG", "LC_ALL"]  # nothing of the hub's own Python environment
c.Spawner.environment = {
    "PATH": f"{USER_ENV / 'bin'}:{SYSTEM_PATH}",  # a terminal's nbgrader and python-memory
    "JUPYTER_CONFIG_PATH": ROLE_PATHS["students"],
}
c.Spawner.group_overrides = {
    "instructors": {
        "groups": [INSTRUCTORS_GROUP],
        "spawner_override": {"environment": {"JUPYTER_CONFIG_PATH": ROLE_PATHS["instructors"]}},
    },
}
# A server's own token: the default (activity, its own URL) and what nbgrader asks the hub for, no more;
# the hub grants only the part its owner holds, so a student's server cannot list services.
c.Spawner.server_token_scopes = [
    "users:activity!user", "access:servers!server", "read:users:name!user", "read:users:groups!user",
    "list:services", f"read:services!service={COURSE_ID}",
]
