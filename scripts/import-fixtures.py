#!/usr/bin/env python3
"""Writes the import fixtures (crates/server/tests/fixtures/import/) from the documented column lists
and shapes of the Intune report exports and Microsoft Graph (../shared/domain.md, "Where real data
comes from"). Deterministic: run it again and nothing changes. The rows are made up."""
import csv, io, json, os, zipfile

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "server", "tests", "fixtures", "import")
TENANT = "7c3f0a52-1b2d-4e8f-9a61-0d5e2b7c4f10"

def guid(n, kind=1):
    return f"{kind:08x}-{n:04x}-4{n:03x}-8{kind:03x}-{n:012x}"

DEVICES = [dict(n=i, name=f"WKS-LON-{i:04d}", aad=guid(i), intune=guid(i, 9)) for i in range(1, 25)]
MODELS = [("Latitude 7440", "Dell Inc."), ("HP EliteBook 840 G9", "HP"), ("Virtual Machine", "Microsoft Corporation")]
BUILDS = ["10.0.19045.5247", "10.0.22631.4602", "10.0.26100.2605"]

def protection(d):
    n = d["n"]
    unhealthy = n % 5 == 0
    return {
        "@odata.type": "#microsoft.graph.windowsProtectionState",
        "id": d["intune"],
        "malwareProtectionEnabled": True,
        "deviceState": "rebootPending" if n % 7 == 0 else "clean",
        "realTimeProtectionEnabled": not unhealthy,
        "networkInspectionSystemEnabled": True,
        "quickScanOverdue": n % 6 == 0,
        "fullScanOverdue": False,
        "signatureUpdateOverdue": unhealthy,
        "rebootRequired": n % 7 == 0,
        "fullScanRequired": False,
        "engineVersion": "1.1.24090.11",
        "signatureVersion": "1.421.123.0" if not unhealthy else "1.419.20.0",
        "antiMalwareVersion": "4.18.24090.11",
        "lastQuickScanDateTime": f"2026-11-2{n % 5}T0{n % 9}:15:00Z",
        "lastFullScanDateTime": "0001-01-01T00:00:00Z",
        "lastQuickScanSignatureVersion": "1.421.123.0",
        "lastFullScanSignatureVersion": None,
        "lastReportedDateTime": "2026-11-25T08:00:00Z",
        "productStatus": "avSignaturesOutOfDate,noQuickScanHappenedForSpecifiedPeriod" if unhealthy else "noStatusFlagsSet",
        "isVirtualMachine": MODELS[n % 3][0] == "Virtual Machine",
        "tamperProtectionEnabled": n % 4 != 0,
    }

def malware(d, k):
    return {
        "@odata.type": "#microsoft.graph.windowsDeviceMalwareState",
        "id": str(2147735505 + k),
        "displayName": ["Trojan:Win32/Wacatac.B!ml", "PUA:Win32/Presenoker", "Ransom:Win32/Sodinokibi.A"][k % 3],
        "additionalInformationUrl": f"https://go.microsoft.com/fwlink/?linkid=37020&name=T{k}",
        "severity": ["high", "low", "severe"][k % 3],
        "category": ["trojan", "potentialUnwantedSoftware", "ransom"][k % 3],
        "executionState": "blocked",
        "state": ["quarantined", "detected", "removeFailed"][k % 3],
        "threatState": ["quarantined", "active", "actionFailed"][k % 3],
        "initialDetectionDateTime": f"2026-11-2{k % 5}T10:00:00Z",
        "lastStateChangeDateTime": f"2026-11-2{k % 5}T11:30:00Z",
        "detectionCount": 1 + k % 3,
    }

def managed(d):
    n = d["n"]
    model, maker = MODELS[n % 3]
    item = {
        "id": d["intune"], "deviceName": d["name"], "managedDeviceOwnerType": "company",
        "operatingSystem": "Windows", "osVersion": BUILDS[n % 3], "complianceState": "compliant",
        "azureADDeviceId": d["aad"], "model": model, "manufacturer": maker, "serialNumber": f"SN{n:06d}",
        "userId": guid(n, 5), "userPrincipalName": f"user{n}@contoso.com", "skuFamily": "Enterprise",
        "windowsProtectionState": protection(d),
    }
    if n % 8 == 3:
        item["windowsProtectionState"]["detectedMalwareState"] = [malware(d, n), malware(d, n + 1)]
    return item

def write(path, data, mode="w"):
    full = os.path.join(OUT, path)
    os.makedirs(os.path.dirname(full), exist_ok=True)
    with open(full, mode, **({} if "b" in mode else {"newline": "", "encoding": "utf-8"})) as f:
        f.write(data)

def csv_text(header, rows, bom=True):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return ("\ufeff" if bom else "") + buf.getvalue()

def export_zip(entry, text):
    """An export job's download: a ZIP holding one CSV (fixed date: the same bytes every run)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        zi = zipfile.ZipInfo(entry, date_time=(2026, 11, 25, 8, 0, 0))
        zi.compress_type = zipfile.ZIP_DEFLATED
        z.writestr(zi, text.encode("utf-8"))
    return buf.getvalue()

# Graph managedDevices, two pages (the first links the second), plus an iPhone and a device
# without an Entra id (neither can be a ConfigMgr device).
items = [managed(d) for d in DEVICES[:20]]
items.append({"id": guid(90, 9), "deviceName": "Jane's iPhone", "operatingSystem": "iOS", "osVersion": "18.1",
              "azureADDeviceId": guid(90), "model": "iPhone 15", "manufacturer": "Apple", "serialNumber": "F2LX",
              "userId": guid(90, 5)})
items.append({"id": guid(91, 9), "deviceName": "KIOSK-UNJOINED", "operatingSystem": "Windows", "osVersion": "10.0.19045.5247",
              "azureADDeviceId": "00000000-0000-0000-0000-000000000000", "model": "OptiPlex 7010", "manufacturer": "Dell Inc.",
              "serialNumber": "SN999", "userId": None})
base = "https://graph.microsoft.com/beta/deviceManagement/managedDevices"
write("graph-managedDevices/page-1.json", json.dumps({
    "@odata.context": "https://graph.microsoft.com/beta/$metadata#deviceManagement/managedDevices(windowsProtectionState())",
    "@odata.nextLink": base + "?$expand=windowsProtectionState&$skiptoken=page2", "value": items[:12]}, indent=1))
write("graph-managedDevices/page-2.json", json.dumps({
    "@odata.context": "https://graph.microsoft.com/beta/$metadata#deviceManagement/managedDevices(windowsProtectionState())",
    "value": items[12:]}, indent=1))

# configManagerCollections with their policy summaries.
write("graph-configManagerCollections.json", json.dumps({
    "@odata.context": "https://graph.microsoft.com/beta/$metadata#deviceManagement/configManagerCollections",
    "value": [{"id": f"{guid(c, 3)}", "displayName": name, "collectionIdentifier": cid, "hierarchyIdentifier": "b7a3c1d2-0000-4000-8000-000000000001",
               "hierarchyName": "CM1", "createdDateTime": "2026-01-10T09:00:00Z", "lastModifiedDateTime": "2026-11-20T09:00:00Z",
               "policySummary": {"targetedDeviceCount": t, "compliantDeviceCount": ok, "nonCompliantDeviceCount": t - ok - f,
                                 "failedDeviceCount": f, "pendingDeviceCount": 0, "enforcedDeviceCount": ok}}
              for c, (name, cid, t, ok, f) in enumerate([("All Windows workstations", "CM100014", 20, 17, 1),
                                                         ("All Windows servers", "CM100015", 4, 4, 0),
                                                         ("Pilot ring", "CM10001A", 6, 5, 1)])]}, indent=1))

# DefenderAgents, the newer column set, localization on (German `_loc` twins: to be ignored).
NEW = ["DeviceId", "DeviceName", "DeviceState", "DeviceState_loc", "IsVirtualMachine", "LastReportedDateTime",
       "MalwareProtectionEnabled", "NetworkInspectionSystemEnabled", "ProductStatus", "ProductStatus_loc",
       "RealTimeProtectionEnabled", "SignatureUpdateOverdue", "TamperProtectionEnabled", "UPN", "UserEmail", "UserName",
       "_ManagedBy", "IsWDATPSenseRunning", "WDATPOnboardingState"]
rows = []
for d in DEVICES[:20]:
    n = d["n"]
    bad = n % 3 == 0
    rows.append([d["intune"], d["name"], 2 if bad else 0, "Neustart ausstehend" if bad else "Sauber", "False",
                 f"2026-11-25 0{n % 9}:00:00.0000000", "True", "True", 524320 if bad else 524288,
                 "AV-Signaturen veraltet" if bad else "Keine Statusflags", "False" if n % 10 == 0 else "True",
                 "True" if bad else "False", "True", f"user{n}@contoso.com", f"user{n}@contoso.com", f"User {n}", "Intune",
                 "True" if n % 4 else "False", 1 if n % 4 else 0])
rows.append([guid(77, 9), "WKS-PAR-0077", 0, "Sauber", "False", "2026-11-25 08:00:00.0000000", "True", "True", 524288,
             "Keine Statusflags", "True", "False", "True", "", "", "", "Intune", "True", 1])
rows.append([guid(78, 9), "", 0, "Sauber", "False", "2026-11-25 08:00:00.0000000", "True", "True", 524288,
             "Keine Statusflags", "True", "False", "True", "", "", "", "Intune", "True", 1])
agents = csv_text(NEW, rows)
write("DefenderAgents.csv", agents)
zipped = export_zip("DefenderAgents_3f0a2b1c-0d4e-4f5a-8b6c-7d8e9f0a1b2c.csv", agents)
write("DefenderAgents.zip", zipped, "wb")
write("bad/truncated.zip", zipped[: len(zipped) // 2], "wb")

# UnhealthyDefenderAgents, the older column set (pending-action columns, versions, scan times),
# localization off, US dates.
OLD = ["DeviceId", "DeviceName", "DeviceState", "PendingFullScan", "PendingReboot", "PendingManualSteps", "PendingOfflineScan",
       "CriticalFailure", "MalwareProtectionEnabled", "RealTimeProtectionEnabled", "NetworkInspectionSystemEnabled",
       "QuickScanOverdue", "FullScanOverdue", "SignatureUpdateOverdue", "RebootRequired", "FullScanRequired",
       "EngineVersion", "SignatureVersion", "AntiMalwareVersion", "LastQuickScanDateTime", "LastFullScanDateTime",
       "LastQuickScanSignatureVersion", "LastFullScanSignatureVersion", "LastReportedDateTime", "ProductStatus",
       "IsVirtualMachine", "TamperProtectionEnabled", "UPN", "UserEmail", "UserName", "_ManagedBy"]
rows = []
for d in DEVICES[20:24] + DEVICES[0:2]:
    n = d["n"]
    rows.append([d["intune"], d["name"], 4, "False", "False", "True", "False", "False", "True", "False", "True",
                 "True", "True", "True", "False", "False", "1.1.23110.2", "1.403.10.0", "4.18.23110.3",
                 f"11/{10 + n % 9}/2026 9:30:00 AM", "", "1.403.10.0", "", "11/25/2026 8:00:00 AM", 524288 | 32 | 128 | 16,
                 "False", "False", f"user{n}@contoso.com", f"user{n}@contoso.com", f"User {n}", "ConfigMgr"])
write("UnhealthyDefenderAgents-older-columns.csv", csv_text(OLD, rows, bom=False))

# Malware, the JSON form of the export (Schema + Values), localization off.
MAL = ["DeviceId", "DeviceName", "MalwareId", "MalwareName", "AdditionalInformationUrl", "Severity", "MalwareCategory",
       "ExecutionState", "State", "InitialDetectionDateTime", "LastStateChangeDateTime", "DetectionCount", "UPN",
       "UserEmail", "UserName", "_ManagedBy"]
values = []
for k, d in enumerate(DEVICES[:10]):
    values.append([d["intune"], d["name"], 2147700000 + k % 4, ["HackTool:Win32/Mimikatz", "Trojan:Win32/Emotet.ARJ!MTB",
                   "PUA:Win32/CoinMiner", "Backdoor:Win32/Cobaltstrike.A"][k % 4], "https://go.microsoft.com/fwlink/?linkid=37020",
                   [4, 5, 1, 5][k % 4], [34, 8, 27, 6][k % 4], 1, [3, 1, 104, 2][k % 4], f"2026-11-2{k % 6}T07:00:00Z",
                   f"2026-11-2{k % 6}T07:05:00Z", 1 + k % 2, "", "", "", "Intune"])
malware_csv = csv_text(MAL, values)
write("Malware.zip", export_zip("Malware_9b1c2d3e-4f5a-4b6c-8d7e-0f1a2b3c4d5e.csv", malware_csv), "wb")
write("Malware.json", json.dumps({"TotalRowCount": len(values), "Schema": [{"Column": c, "PropertyType": "String"} for c in MAL],
                                  "Values": values}, indent=1))

# ActiveMalware CSV with `_loc` twins in English and one state this model does not know.
ACT = ["DeviceId", "DeviceName", "MalwareId", "MalwareName", "AdditionalInformationUrl", "Severity", "Severity_loc",
       "MalwareCategory", "MalwareCategory_loc", "ExecutionState", "ExecutionState_loc", "State", "State_loc",
       "InitialDetectionDateTime", "LastStateChangeDateTime", "DetectionCount", "UPN", "UserEmail", "UserName", "_ManagedBy"]
rows = [[DEVICES[k]["intune"], DEVICES[k]["name"], 2147800000 + k, "Trojan:Win32/Qakbot!MSR", "javascript:alert(1)",
         5, "Severe", 8, "Trojan", 3, "Running", "Detected" if k != 14 else "Suspended", "Detected" if k != 14 else "Suspended",
         "2026-11-25T06:00:00Z", "2026-11-25T06:00:00Z", 1, "", "", "", "Intune"] for k in range(12, 16)]
write("ActiveMalware.csv", csv_text(ACT, rows))

# Files that are not what they claim.
write("bad/formula.csv", csv_text(NEW[:3] + ["ProductStatus"], [[guid(1, 9), "WKS-LON-0001", 0, "=HYPERLINK(\"http://x\",\"y\")"]]))
write("bad/wrong-columns.csv", csv_text(["Hostname", "Status", "Owner"], [["WKS-LON-0001", "ok", "x"]]))
write("bad/short-row.csv", csv_text(NEW[:4], [[guid(1, 9), "WKS-LON-0001", 0, "Clean"], [guid(2, 9), "WKS-LON-0002"]]))
write("bad/only-intune-id.csv", csv_text(["DeviceId", "ProductStatus", "DeviceState"], [[guid(1, 9), 524288, 0]]))
write("bad/not-a-time.csv", csv_text(MAL[:4] + ["InitialDetectionDateTime"], [[guid(1, 9), "WKS-LON-0001", 2147700001, "X", "last Tuesday"]]))
print("fixtures written to", os.path.normpath(OUT))
