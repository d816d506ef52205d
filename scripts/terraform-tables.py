#!/usr/bin/env python3
"""Regenerates the Inputs and Outputs tables of each module's and example's README.md from
its variables and outputs (description, type, default), in the terraform-docs layout.
Usage: python3 scripts/terraform-tables.py [--check]   (--check: fail if a table is stale).
The contract test (tests/it/terraform/readme.rs) checks the names; this keeps the rest true."""

import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent / "terraform"
DIRS = ["modules/csoc-commons", "modules/child-subscription", "modules/opensearch-domain",
        "examples/commons", "examples/child"]


def blocks(text, kind):
    for m in re.finditer(r'(?m)^%s "([^"]+)" \{\n(.*?)^\}' % kind, text, re.S):
        yield m.group(1), m.group(2)


def attr(body, name):
    m = re.search(r'(?m)^  %s\s*=\s*(.*)$' % name, body)
    if not m:
        return None
    value = m.group(1).rstrip()
    if value.startswith("{") and not value.endswith("}"):  # multi-line object default
        start = body.index(m.group(0))
        depth, out = 0, []
        for ch in body[start + len(m.group(0)) - len(m.group(1)):]:
            out.append(ch)
            depth += ch == "{"
            depth -= ch == "}"
            if depth == 0:
                break
        value = " ".join("".join(out).split())
    return value


def string(value):
    if value is None:
        return ""
    m = re.match(r'"((?:[^"\\]|\\.)*)"', value)
    return m.group(1).replace('\\"', '"') if m else value


def cell(text):
    return text.replace("|", "\\|").replace("<", "&lt;").replace(">", "&gt;")


def tables(directory):
    text = "".join(p.read_text() for p in sorted(directory.glob("*.tf")) if not p.name.endswith("_override.tf"))
    inputs = ["| Name | Description | Type | Default | Required |",
              "|------|-------------|------|---------|:--------:|"]
    for name, body in blocks(text, "variable"):
        default = attr(body, "default")
        type_ = attr(body, "type") or "any"
        description = string(attr(body, "description"))
        if attr(body, "sensitive") == "true":
            description += " (sensitive)"
        inputs.append("| `%s` | %s | `%s` | %s | %s |" % (
            name, cell(description), type_.replace("|", "\\|"),
            "n/a" if default is None else "`%s`" % default.replace("|", "\\|"), "yes" if default is None else "no"))
    outputs = ["| Name | Description |", "|------|-------------|"]
    for name, body in blocks(text, "output"):
        outputs.append("| `%s` | %s |" % (name, cell(string(attr(body, "description")))))
    return "\n".join(inputs), "\n".join(outputs)


def replace_table(readme, heading, table):
    pattern = re.compile(r'(## %s\n\n(?:[^|\n].*\n\n)*)(\|.*\n)+' % heading)
    if not pattern.search(readme):
        raise SystemExit("no table under ## %s" % heading)
    return pattern.sub(lambda m: m.group(1) + table + "\n", readme, count=1)


def main():
    check = "--check" in sys.argv
    stale = []
    for rel in DIRS:
        path = ROOT / rel / "README.md"
        readme = path.read_text()
        inputs, outputs = tables(ROOT / rel)
        new = replace_table(replace_table(readme, "Inputs", inputs), "Outputs", outputs)
        if new != readme:
            stale.append(str(path))
            if not check:
                path.write_text(new)
    if check and stale:
        raise SystemExit("stale tables (run python3 scripts/terraform-tables.py): " + ", ".join(stale))


main()
