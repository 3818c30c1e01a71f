//! Privacy mode: which fields are answered as aliases, and the aliases' form.
//!
//! Masked: the identified values that point at a person, a device or an organisation (device names,
//! serial numbers, Entra device and user ids, domain names, the tenant's id and name). Shown: the
//! identified values that name a product (OS, build, model, manufacturer, SKU, applications, threat
//! names), which read the same in every company, and what is pseudonymized or aggregated.
//!
//! An alias is a noun and a number: "Device 0042", "User 0117", "Domain 3". A device's values use
//! the device's number in the store; a user, domain or tenant uses the number of the first device
//! that has it. The same value gets the same alias in every view and every request, and an alias
//! turns back into its value for links, filters and search.

use crate::entities::{DataClass, Entity};

/// What an alias stands for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AliasKind {
    /// A device's name.
    Device,
    /// A device's serial number.
    Serial,
    /// A device's Entra id (also the device's address in the console).
    EntraDevice,
    /// An Entra user.
    User,
    /// A domain.
    Domain,
    /// The tenant: its id and its name.
    Tenant,
}

impl AliasKind {
    pub const ALL: [AliasKind; 6] =
        [AliasKind::Device, AliasKind::Serial, AliasKind::EntraDevice, AliasKind::User, AliasKind::Domain, AliasKind::Tenant];

    fn prefix(self) -> &'static str {
        match self {
            AliasKind::Device => "Device ",
            AliasKind::Serial => "Serial ",
            AliasKind::EntraDevice => "device-",
            AliasKind::User => "User ",
            AliasKind::Domain => "Domain ",
            AliasKind::Tenant => "Tenant ",
        }
    }

    /// The alias of number `n`: at least four digits.
    pub fn alias(self, n: i64) -> String {
        format!("{}{n:04}", self.prefix())
    }

    /// An alias's kind and number (`None`: not an alias).
    pub fn parse(alias: &str) -> Option<(AliasKind, i64)> {
        AliasKind::ALL.into_iter().find_map(|k| {
            let digits = alias.strip_prefix(k.prefix())?;
            (!digits.is_empty() && digits.len() <= 18 && digits.bytes().all(|b| b.is_ascii_digit()))
                .then(|| digits.parse().ok().map(|n| (k, n)))
                .flatten()
        })
    }

    /// The device field whose value an alias of this kind stands for.
    pub fn device_field(self) -> &'static str {
        match self {
            AliasKind::Device => "Name",
            AliasKind::Serial => "SerialNumber",
            AliasKind::EntraDevice => "AADDeviceID",
            AliasKind::User => "AADPrimaryUserID",
            AliasKind::Domain => "DomainNames",
            AliasKind::Tenant => "AADTenantID",
        }
    }

    /// Numbered by the device that has the value (its name, serial, id), not by the first of many.
    pub fn per_device(self) -> bool {
        matches!(self, AliasKind::Device | AliasKind::Serial | AliasKind::EntraDevice)
    }
}

/// A masked field: its wire name, its alias, and the key an object must also have for the field to
/// be this one (`Name` is a device's only beside `AADDeviceID`; a telemetry item's `Name` is shown).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Masked {
    pub field: &'static str,
    pub kind: AliasKind,
    pub beside: Option<&'static str>,
}

const fn masked(field: &'static str, kind: AliasKind, beside: Option<&'static str>) -> Masked {
    Masked { field, kind, beside }
}

/// Every masked field, declared once: the server aliases what it answers from this list, the Data &
/// privacy page lists it.
pub const MASKED: &[Masked] = &[
    masked("Name", AliasKind::Device, Some("AADDeviceID")),
    masked("DeviceName", AliasKind::Device, None),
    masked("SerialNumber", AliasKind::Serial, None),
    masked("AADDeviceID", AliasKind::EntraDevice, None),
    masked("DeviceId", AliasKind::EntraDevice, None),
    masked("AADPrimaryUserID", AliasKind::User, None),
    masked("DomainNames", AliasKind::Domain, None),
    masked("AADTenantID", AliasKind::Tenant, None),
    masked("TenantId", AliasKind::Tenant, None),
    masked("AzureTenantID", AliasKind::Tenant, None),
    // The summary's tenant: id and name.
    masked("tenant_id", AliasKind::Tenant, None),
    masked("tenant_name", AliasKind::Tenant, Some("tenant_id")),
];

/// The alias kind of key `field` in an object that has the keys `has` says it has.
pub fn masked_field(field: &str, has: impl Fn(&str) -> bool) -> Option<AliasKind> {
    MASKED.iter().find(|m| m.field == field && m.beside.is_none_or(&has)).map(|m| m.kind)
}

/// Whether privacy mode masks `field` of `entity` (for the Data & privacy page).
pub fn masks(entity: Entity, field: &str) -> bool {
    MASKED.iter().any(|m| m.field == field && m.beside.is_none_or(|b| entity.fields().iter().any(|f| f.name == b)))
}

/// Why a field is shown in privacy mode, in a few words (`None`: it is masked).
pub fn shown_because(entity: Entity, field: &str) -> Option<&'static str> {
    if masks(entity, field) {
        return None;
    }
    Some(match entity.fields().iter().find(|f| f.name == field).map(|f| f.class) {
        Some(DataClass::Identified) => "names a product or a threat, the same in every company",
        Some(DataClass::Pseudonymized) => "pseudonymized: identifies no person on its own",
        _ => "a count or a time",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aliases_read_back_and_nothing_else_does() {
        for k in AliasKind::ALL {
            for n in [1, 42, 117, 12_345, 1_000_000] {
                assert_eq!(AliasKind::parse(&k.alias(n)), Some((k, n)), "{}", k.alias(n));
            }
        }
        assert_eq!(AliasKind::Device.alias(42), "Device 0042");
        assert_eq!(AliasKind::EntraDevice.alias(7), "device-0007");
        for not in ["Device ", "Device x42", "WKS-LON-0042", "device-", "User -1", "Domain 1 ", "Device 99999999999999999999"] {
            assert_eq!(AliasKind::parse(not), None, "{not}");
        }
    }

    #[test]
    fn the_masked_fields_are_fields_and_never_aggregates() {
        let known = |f: &str| {
            Entity::ALL.iter().any(|e| e.fields().iter().any(|x| x.name == f))
                || crate::entities::DERIVED_FIELDS.iter().any(|x| x.name == f)
                || f.starts_with("tenant_")
        };
        for m in MASKED {
            assert!(known(m.field), "{} is not a field", m.field);
        }
        // Every identified device field that points at a device, user or organisation is masked.
        for f in ["Name", "SerialNumber", "AADDeviceID", "AADPrimaryUserID", "DomainNames", "AADTenantID"] {
            assert!(masks(Entity::Device, f), "{f}");
        }
        assert!(masks(Entity::DefenderHealth, "DeviceId") && masks(Entity::ThreatDetection, "DeviceId"));
        // A telemetry item's Name is an event's name, shown; a device's is masked.
        assert!(!masks(Entity::TelemetryEvent, "Name"));
        assert_eq!(masked_field("Name", |k| k == "AADDeviceID"), Some(AliasKind::Device));
        assert_eq!(masked_field("Name", |k| k == "Kind"), None);
        assert!(shown_because(Entity::Device, "Model").is_some() && shown_because(Entity::Device, "Name").is_none());
        for e in Entity::ALL {
            for f in e.fields() {
                if f.class == DataClass::Aggregated {
                    assert!(!masks(e, f.name), "{}", f.name);
                }
            }
        }
    }
}
