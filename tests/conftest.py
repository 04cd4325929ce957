import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))  # tools/course.py, importable as `course`
sys.path.insert(0, str(ROOT / "tests"))  # tests/submissions
