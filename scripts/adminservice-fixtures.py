#!/usr/bin/env python3
"""Writes recorded AdminService answers (crates/server/tests/fixtures/adminservice/) from the documented
properties of the ConfigMgr WMI classes in ../shared/domain.md: OData JSON as the AdminService serves
`/AdminService/wmi/<Class>`, one file per page (`<Class>.json`, `<Class>.page-2.json`; `{base}` is the
replaying server's address). SMS_G_System_AdvancedThreatProtectionHealthStatus is left out on purpose:
an older site has no such class. Deterministic; the data is made up."""
import json, os

OUT = os.path.join(os.path.dirname(__file__), "..", "crates", "server", "tests", "fixtures", "adminservice")
TENANT = "7c3f0a52-1b2d-4e8f-9a61-0d5e2b7c4f10"
HIERARCHY = "b7a3c1d2-0000-4000-8000-000000000001"
RID = 16777216

def guid(n, kind=1):
    return f"{kind:08x}-{n:04x}-4{n:03x}-8{kind:03x}-{n:012x}"

def page(cls, items, nxt=None, n=1):
    doc = {"@odata.context": f"{{base}}/wmi/$metadata#{cls}", "value": items}
    if nxt:
        doc["@odata.nextLink"] = nxt
    os.makedirs(OUT, exist_ok=True)
    name = f"{cls}.json" if n == 1 else f"{cls}.page-{n}.json"
    with open(os.path.join(OUT, name), "w") as f:
        json.dump(doc, f, indent=1)

N = 12
names = [f"WKS-BER-{i:04d}" for i in range(1, N + 1)]
page("SMS_Identification", [{"ThisSiteCode": "BER", "SupportID": HIERARCHY, "SMSVersion": "5.00.9128.1000", "LocaleID": 1031}])
combined = []
for i in range(1, N + 1):
    combined.append({"MachineId": RID + i, "Name": names[i - 1], "SMSID": f"GUID:{guid(i, 2).upper()}",
                     "AADDeviceID": guid(i) if i != 12 else None, "AADTenantID": TENANT if i != 12 else None,
                     "DeviceOS": "Microsoft Windows NT Server 10.0" if i % 6 == 0 else "Microsoft Windows NT Workstation 10.0",
                     "DeviceOSBuild": ["10.0.19045.5247", "10.0.22631.4602", "10.0.26100.2605"][i % 3],
                     "IsVirtualMachine": i % 6 == 0})
page("SMS_CombinedDeviceResources", combined)
systems = [{"ResourceId": RID + i, "Name": names[i - 1], "AADDeviceID": guid(i) if i != 12 else None, "AADTenantID": TENANT,
            "ResourceDomainORWorkgroup": "CORP", "FullDomainName": "corp.fabrikam.de" if i % 2 else None} for i in range(1, N + 1)]
page("SMS_R_System", systems[:6], nxt="{base}/wmi/SMS_R_System?$select=ResourceId,Name&$skiptoken=6", n=1)
page("SMS_R_System", systems[6:], n=2)
page("SMS_G_System_COMPUTER_SYSTEM", [{"ResourceID": RID + i, "Model": ["Latitude 7440", "HP EliteBook 840 G9", "Virtual Machine"][i % 3],
                                       "Manufacturer": ["Dell Inc.", "HP", "Microsoft Corporation"][i % 3]} for i in range(1, N + 1)])
page("SMS_G_System_PC_BIOS", [{"ResourceID": RID + i, "SerialNumber": f"BER{i:05d}"} for i in range(1, N + 1)])
page("SMS_G_System_OPERATING_SYSTEM", [{"ResourceID": RID + i, "OperatingSystemSKU": 8 if i % 6 == 0 else 4} for i in range(1, N + 1)])
page("SMS_UserMachineRelationship", [{"ResourceID": RID + i, "UniqueUserName": f"FABRIKAM\\user{i}", "IsActive": True} for i in range(1, 5)])
page("SMS_R_User", [{"UniqueUserName": f"fabrikam\\user{i}", "AADUserID": guid(i, 5)} for i in range(1, 5)])
page("SMS_Application", [
    {"ModelName": "ScopeId_1/Application_a1", "LocalizedDisplayName": "7-Zip 24.08 (x64)", "Manufacturer": "Igor Pavlov", "SoftwareVersion": "24.08"},
    {"ModelName": "ScopeId_1/Application_a2", "LocalizedDisplayName": "Google Chrome", "Manufacturer": "Google LLC", "SoftwareVersion": "131.0.6778.86"}])
page("SMS_DeploymentType", [
    {"AppModelName": "ScopeId_1/Application_a1", "CI_UniqueID": "ScopeId_1/DeploymentType_d1/2", "LocalizedDisplayName": "7-Zip MSI"},
    {"AppModelName": "ScopeId_1/Application_a2", "CI_UniqueID": "ScopeId_1/DeploymentType_d2/5", "LocalizedDisplayName": "Chrome Enterprise MSI"}])
page("SMS_Collection", [{"CollectionID": "BER00014", "Name": "All Berlin workstations", "CollectionType": 2},
                        {"CollectionID": "BER00015", "Name": "Berlin servers", "CollectionType": 2},
                        {"CollectionID": "SMS00001", "Name": "All Systems", "CollectionType": 2}])
page("SMS_DeploymentSummary", [
    {"CollectionID": "BER00014", "FeatureType": 11, "NumberTargeted": 10, "NumberSuccess": 8, "NumberErrors": 1, "NumberInProgress": 0, "NumberOther": 1, "NumberUnknown": 0},
    {"CollectionID": "BER00015", "FeatureType": 11, "NumberTargeted": 2, "NumberSuccess": 2, "NumberErrors": 0, "NumberInProgress": 0, "NumberOther": 0, "NumberUnknown": 0},
    {"CollectionID": "SMS00001", "FeatureType": 1, "NumberTargeted": 12, "NumberSuccess": 12, "NumberErrors": 0, "NumberInProgress": 0, "NumberOther": 0, "NumberUnknown": 0}])
page("SMS_G_System_AntimalwareHealthStatus", [
    {"ResourceID": RID + i, "ProductStatus": 524288 if i % 4 else 524288 | 32, "Enabled": True, "RtpEnabled": i != 5, "NisEnabled": True,
     "EngineVersion": "1.1.24090.11", "Version": "4.18.24090.11", "AntivirusSignatureVersion": "1.421.123.0" if i % 4 else "1.405.1.0",
     "AntivirusSignatureAge": 0 if i % 4 else 21, "AntivirusSignatureUpdateDateTime": "2026-11-25T05:00:00Z",
     "LastQuickScanDateTimeEnd": "20261124093000.000000+000", "LastFullScanDateTimeEnd": None,
     "LastQuickScanDetectorVersion": "1.421.100.0", "LastFullScanDetectorVersion": None, "IsVirtualMachine": i % 6 == 0}
    for i in range(1, N + 1)])
page("SMS_G_System_AntimalwareInfectionStatus", [
    {"ResourceID": RID + i, "ComputerStatus": 0, "PendingFullScan": False, "PendingReboot": i == 3, "PendingManualSteps": False,
     "PendingOfflineScan": False, "CriticallyFailedDetections": 0} for i in range(1, N + 1)])
page("SMS_G_System_Threats", [
    {"ResourceID": RID + 2, "ThreatID": 2147735505, "ThreatName": "Trojan:Win32/Wacatac.B!ml", "CategoryID": 8, "SeverityID": 5,
     "DetectionTime": "2026-11-23T10:00:00Z", "ActionTime": "2026-11-23T10:01:00Z", "ActionSuccess": True, "CleaningAction": 2},
    {"ResourceID": RID + 2, "ThreatID": 2147735505, "ThreatName": "Trojan:Win32/Wacatac.B!ml", "CategoryID": 8, "SeverityID": 5,
     "DetectionTime": "2026-11-25T08:00:00Z", "ActionTime": None, "ActionSuccess": False, "CleaningAction": 0},
    {"ResourceID": RID + 7, "ThreatID": 2147680291, "ThreatName": "PUA:Win32/Presenoker", "CategoryID": 27, "SeverityID": 1,
     "DetectionTime": "2026-11-24T14:00:00Z", "ActionTime": "2026-11-24T14:00:05Z", "ActionSuccess": True, "CleaningAction": 3},
    {"ResourceID": RID + 12, "ThreatID": 2147680291, "ThreatName": "PUA:Win32/Presenoker", "CategoryID": 27, "SeverityID": 1,
     "DetectionTime": "2026-11-24T14:00:00Z", "ActionTime": None, "ActionSuccess": False, "CleaningAction": 0}])
with open(os.path.join(OUT, "error-401.json"), "w") as f:
    json.dump({"error": {"code": "Unauthorized", "message": "Authorization has been denied for this request."}}, f)
with open(os.path.join(OUT, "error-404.json"), "w") as f:
    json.dump({"error": {"code": "NotFound", "message": "The requested resource was not found: invalid WMI class."}}, f)
with open(os.path.join(OUT, "error-500.json"), "w") as f:
    json.dump({"error": {"code": "InternalServerError", "message": "Generic failure"}}, f)
print("fixtures written to", os.path.normpath(OUT))
