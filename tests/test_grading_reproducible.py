"""A regrade with the seed and the command a report states gives byte-identical files."""

import json
import shlex
import shutil
from pathlib import Path

from cnnlib import __version__
from cnnlib.grading.cli import main

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "exercises" / "sources" / "02_conv1d.ipynb"
STUDENT = ROOT / "exercises" / "02_conv1d.ipynb"
# A slip that fails some checks, public and hidden: the kernel is flipped.
FLIPPED = ("def conv1d_valid(x, h):\n    m = len(h)\n    h = torch.flip(h, dims=[0])\n"
           "    return torch.stack([(h * x[i:i + m]).sum() for i in range(len(x) - m + 1)])\n")
# An answer that draws numbers without seeding them: right or wrong by chance at each call.
RANDOM = ("import random\n\nimport numpy as np\n\n\ndef conv1d_valid(x, h):\n    m = len(h)\n"
          "    if random.random() + np.random.rand() + float(torch.rand(())) < 1.5:\n"
          "        h = torch.flip(h, dims=[0])\n"
          "    return torch.stack([(h * x[i:i + m]).sum() for i in range(len(x) - m + 1)])\n")
TIMINGS = ("seconds", "seconds_per_submission")


def submissions(folder: Path) -> None:
    (folder / "group a").mkdir(parents=True)
    shutil.copy(SOURCE, folder / "alice.ipynb")
    shutil.copy(STUDENT, folder / "group a" / "bob.ipynb")
    nb = json.loads(SOURCE.read_text())
    nb["cells"].append({"cell_type": "code", "metadata": {}, "outputs": [],
                        "execution_count": None, "source": FLIPPED.splitlines(True)})
    (folder / "carol.ipynb").write_text(json.dumps(nb))
    nb["cells"][-1]["source"] = RANDOM.splitlines(True)
    (folder / "dave.ipynb").write_text(json.dumps(nb))


def files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file()}


def test_the_command_a_report_states_regrades_byte_for_byte(tmp_path, monkeypatch, capsys):
    first, second = tmp_path / "first", tmp_path / "second"
    for run in (first, second):
        submissions(run / "submissions")
    # a first run with a seed of its own drawing, in one folder...
    monkeypatch.chdir(first)
    assert main(["grade", "02_conv1d", "submissions", "--out", "grades", "--timeout", "5",
                 "--no-progress"]) == 0
    one = files(first / "grades")
    report = json.loads(one["reports/carol.json"])
    reproduce = report["reproduce"]
    seed = reproduce["seed"]
    assert reproduce["cnnlib"] == __version__ and isinstance(seed, int)
    command = shlex.split(reproduce["command"])
    assert command == ["cnnlib-grade", "grade", "02_conv1d", "submissions", "--out", "grades",
                       "--seed", str(seed), "--timeout", "5", "--memory-mb", "2048"]
    assert report["questions"]["conv1d_valid"]["status"] == "fail"  # hidden checks ran too
    # ...and the command it states, run in another folder with the same files
    monkeypatch.chdir(second)
    assert main([*command[1:], "--no-progress"]) == 0
    two = files(second / "grades")
    capsys.readouterr()
    assert sorted(one) == sorted(two) == sorted([
        "gradescope/alice/results.json", "gradescope/carol/results.json",
        "gradescope/dave/results.json", "gradescope/group_a__bob/results.json", "grades.csv",
        "reports/alice.json", "reports/carol.json", "reports/dave.json",
        "reports/group_a__bob.json", "summary.json"])
    # the sandboxes start their random generators alike: chance answers score alike too
    dave = json.loads(one["reports/dave.json"])["questions"]["conv1d_valid"]
    assert dave["status"] == "fail" and 0 < dave["score"] < dave["points"], dave
    for name in one:
        if name != "summary.json":
            assert one[name] == two[name], f"{name} differs between the two runs"
    # the timings are in summary.json alone
    for name, data in one.items():
        if name.endswith(".json") and name != "summary.json":
            assert not set(TIMINGS) & set(json.loads(data)), name
    a, b = json.loads(one["summary.json"]), json.loads(two["summary.json"])
    assert set(a["seconds_per_submission"]) == {"alice", "carol", "dave", "group_a__bob"}
    assert (a.pop("seed_fixed"), b.pop("seed_fixed")) == (False, True)
    for key in TIMINGS:
        a.pop(key), b.pop(key)
    assert a == b and a["reproduce"] == reproduce
    # students see results.json: the version is there, the seed is not
    seen = one["gradescope/carol/results.json"].decode()
    assert json.loads(seen)["extra_data"]["cnnlib"] == __version__
    assert str(seed) not in seen


def test_another_seed_draws_other_hidden_checks(tmp_path, monkeypatch, capsys):
    submissions(tmp_path / "submissions")
    monkeypatch.chdir(tmp_path)
    outputs = []
    for seed in ("1", "2"):
        assert main(["grade", "02_conv1d", "submissions", "--out", f"grades{seed}", "--seed",
                     seed, "--timeout", "5", "--no-progress"]) == 0
        outputs.append(json.loads((tmp_path / f"grades{seed}" / "reports" / "carol.json")
                                  .read_text()))
    capsys.readouterr()
    messages = [[c["message"] for c in o["questions"]["conv1d_valid"]["check_results"]
                 if not c["public"]] for o in outputs]
    assert messages[0] != messages[1]
