"""Tests of the source tree's layout: module headers name test modules that exist."""

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HEADER = re.compile(r"#\s*-\*-\s*test-case-name:\s*(\S+?)\s*-\*-")


def sourceFiles():
    for top in ("jabberd", "components"):
        for directory, _dirs, files in os.walk(os.path.join(ROOT, top)):
            for name in files:
                if name.endswith(".py"):
                    yield os.path.join(directory, name)


def headerNames(path):
    with open(path, encoding="utf-8") as f:
        head = [f.readline() for _ in range(2)]
    return [name for line in head for name in HEADER.findall(line)]


def test_testCaseNamesExist():
    """Every test-case-name header in jabberd/ and components/ names an existing test module file."""
    missing = []
    for path in sourceFiles():
        for name in headerNames(path):
            for module in name.split(","):
                target = os.path.join(ROOT, *module.strip().split(".")) + ".py"
                if not os.path.isfile(target):
                    missing.append(f"{os.path.relpath(path, ROOT)}: {module}")
    assert missing == []


def test_headerCheckSeesHeaders():
    """The check reads a header: jabberd.stanza names tests.test_stanza."""
    names = headerNames(os.path.join(ROOT, "jabberd", "stanza.py"))
    assert names == ["tests.test_stanza"]
