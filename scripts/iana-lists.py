#!/usr/bin/env python3
"""Write the three IANA registry CSVs that Microsoft's ASimDataTester loads with externaldata
(www.iana.org is not reachable from CI), in the registries' own CSV layouts, from packaged copies:

- protocol-numbers-1.csv  (Decimal,Keyword,Protocol,IPv6 Extension Header,Reference)
  from Debian's `netbase` /etc/protocols (itself "updated from" IANA's protocol-numbers registry);
- dns-parameters-4.csv    (TYPE,Value,Meaning,Reference,Template,Registration Date)
  from dnspython's `dns.rdatatype.RdataType` (pip install dnspython);
- dns-parameters-6.csv    (RCODE,Name,Description,Reference)
  from dnspython's `dns.rcode.Rcode`, with IANA's mixed-case names.

Usage: scripts/iana-lists.py OUT_DIR
"""
import csv
import subprocess
import sys
from pathlib import Path

import dns.rcode
import dns.rdatatype
import dns.version

out = Path(sys.argv[1])
out.mkdir(parents=True, exist_ok=True)

# IANA's spelling of the rcode names (dnspython upper-cases them).
RCODE_NAMES = {
    "NOERROR": "NoError", "FORMERR": "FormErr", "SERVFAIL": "ServFail", "NXDOMAIN": "NXDomain",
    "NOTIMP": "NotImp", "REFUSED": "Refused", "YXDOMAIN": "YXDomain", "YXRRSET": "YXRRSet",
    "NXRRSET": "NXRRSet", "NOTAUTH": "NotAuth", "NOTZONE": "NotZone", "DSOTYPENI": "DSOTYPENI",
    "BADVERS": "BADVERS", "BADKEY": "BADKEY", "BADTIME": "BADTIME", "BADMODE": "BADMODE",
    "BADNAME": "BADNAME", "BADALG": "BADALG", "BADTRUNC": "BADTRUNC", "BADCOOKIE": "BADCOOKIE",
}

netbase = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "netbase"], capture_output=True, text=True).stdout
with open(out / "protocol-numbers-1.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["Decimal", "Keyword", "Protocol", "IPv6 Extension Header", "Reference"])
    rows = {}
    for line in Path("/etc/protocols").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        parts = line.split()
        # the last line for a number wins: netbase lists the pseudo-protocol `ip 0` before
        # IANA's `hopopt 0`
        rows[int(parts[1])] = parts[2] if len(parts) > 2 else parts[0].upper()
    for num, keyword in sorted(rows.items()):
        w.writerow([num, keyword, "", "", f"Debian netbase {netbase} /etc/protocols"])

with open(out / "dns-parameters-4.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["TYPE", "Value", "Meaning", "Reference", "Template", "Registration Date"])
    for t in sorted(dns.rdatatype.RdataType, key=lambda t: t.value):
        if t.name.startswith("TYPE"):
            continue
        w.writerow([t.name, t.value, "", f"dnspython {dns.version.version}", "", ""])

with open(out / "dns-parameters-6.csv", "w", newline="") as f:
    w = csv.writer(f)
    w.writerow(["RCODE", "Name", "Description", "Reference"])
    for r in sorted(dns.rcode.Rcode, key=lambda r: r.value):
        w.writerow([r.value, RCODE_NAMES.get(r.name, r.name), "", f"dnspython {dns.version.version}"])
