#!/usr/bin/env python3
"""Convert uap-core's regexes.yaml (the user-agent rules of the ua-parser project, Apache-2.0)
into kql-exec/data/uap-regexes.json, which parse_user_agent() reads.

Usage: scripts/gen-uap-regexes.py path/to/uap-core/regexes.yaml
(the file ships in the `uap-core` npm package; the committed JSON is from uap-core 0.18.0)."""
import json
import sys

import yaml

KEYS = {
    "user_agent_parsers": ["regex", "family_replacement", "v1_replacement", "v2_replacement", "v3_replacement"],
    "os_parsers": ["regex", "os_replacement", "os_v1_replacement", "os_v2_replacement", "os_v3_replacement",
                   "os_v4_replacement"],
    "device_parsers": ["regex", "regex_flag", "device_replacement", "brand_replacement", "model_replacement"],
}

rules = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
out = {"source": "uap-core regexes.yaml (Apache License 2.0, https://github.com/ua-parser/uap-core)"}
for section, keys in KEYS.items():
    out[section] = [{k: str(r[k]) for k in keys if k in r} for r in rules[section]]
with open("kql-exec/data/uap-regexes.json", "w", encoding="utf-8") as f:
    json.dump(out, f, ensure_ascii=False, separators=(",", ":"))
    f.write("\n")
