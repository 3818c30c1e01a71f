//! Bit-flag fields of the Defender health record: ProductStatus and ComputerState.

use serde::{Deserialize, Serialize};

/// One decoded flag: its bit value, plain-language meaning and whether it signals a problem.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Flag {
    pub value: u64,
    pub label: &'static str,
    pub severity: FlagSeverity,
}

/// How much a set flag matters for the device's protection.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum FlagSeverity {
    /// Informational: nothing is wrong (e.g. "no status flags set", a scan in progress).
    Info,
    /// Protection is degraded: something needs attention.
    Warning,
    /// Protection is broken or remediation failed critically.
    Critical,
}

/// Value a healthy device reports: "no status flags set (well initialised)".
pub const PRODUCT_STATUS_HEALTHY: u64 = 524_288;

const PRODUCT_STATUS_FLAGS: [Flag; 25] = {
    use FlagSeverity::*;
    [
        Flag { value: 1, label: "Service not running", severity: Critical },
        Flag { value: 2, label: "Service started without malware protection", severity: Critical },
        Flag { value: 4, label: "Pending full scan due to threat action", severity: Warning },
        Flag { value: 8, label: "Pending reboot due to threat action", severity: Warning },
        Flag { value: 16, label: "Pending manual steps due to threat action", severity: Warning },
        Flag { value: 32, label: "AV signatures out of date", severity: Warning },
        Flag { value: 64, label: "AS signatures out of date", severity: Warning },
        Flag { value: 128, label: "No quick scan for the specified period", severity: Warning },
        Flag { value: 256, label: "No full scan for the specified period", severity: Warning },
        Flag { value: 512, label: "System-initiated scan in progress", severity: Info },
        Flag { value: 1024, label: "System-initiated clean in progress", severity: Info },
        Flag { value: 2048, label: "Samples pending submission", severity: Info },
        Flag { value: 4096, label: "Running in evaluation mode", severity: Warning },
        Flag { value: 8192, label: "Running in non-genuine mode", severity: Critical },
        Flag { value: 16384, label: "Product expired", severity: Critical },
        Flag { value: 32768, label: "Offline scan required", severity: Warning },
        Flag { value: 65536, label: "Service shut down as part of system shutdown", severity: Info },
        Flag { value: 131072, label: "Threat remediation failed critically", severity: Critical },
        Flag { value: 262144, label: "Threat remediation failed non-critically", severity: Warning },
        Flag { value: 524288, label: "No status flags set (well initialised)", severity: Info },
        Flag { value: 1048576, label: "Platform out of date", severity: Warning },
        Flag { value: 2097152, label: "Platform update in progress", severity: Info },
        Flag { value: 4194304, label: "Platform about to be outdated", severity: Warning },
        Flag { value: 8388608, label: "Signature or platform end of life past or impending", severity: Warning },
        Flag { value: 16777216, label: "Windows S mode signatures in use on a non-S install", severity: Warning },
    ]
};

const COMPUTER_STATE_FLAGS: [Flag; 5] = {
    use FlagSeverity::*;
    [
        Flag { value: 1, label: "Pending full scan", severity: Warning },
        Flag { value: 2, label: "Pending reboot", severity: Warning },
        Flag { value: 4, label: "Pending manual steps", severity: Warning },
        Flag { value: 8, label: "Pending offline scan", severity: Warning },
        Flag { value: 16, label: "Pending critical failure", severity: Critical },
    ]
};

fn decode(value: u64, table: &[Flag]) -> Vec<Flag> {
    let mut out: Vec<Flag> = table.iter().copied().filter(|f| value & f.value != 0).collect();
    let known = table.iter().fold(0, |acc, f| acc | f.value);
    let mut rest = value & !known;
    while rest != 0 {
        let bit = rest & rest.wrapping_neg();
        out.push(Flag { value: bit, label: "Undocumented flag", severity: FlagSeverity::Warning });
        rest &= !bit;
    }
    out
}

/// ProductStatus bit flags. A healthy device reports 524288, "no status flags set".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct ProductStatus(pub u64);

impl ProductStatus {
    pub fn flags(self) -> Vec<Flag> {
        decode(self.0, &PRODUCT_STATUS_FLAGS)
    }

    /// The worst severity among the set flags; `Info` when nothing is wrong.
    pub fn worst(self) -> FlagSeverity {
        self.flags().iter().map(|f| f.severity).max().unwrap_or(FlagSeverity::Info)
    }

    /// Every documented flag, for legends and filters.
    pub fn documented() -> &'static [Flag] {
        &PRODUCT_STATUS_FLAGS
    }
}

/// ComputerState flags; 0 is "Clean".
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(transparent)]
pub struct ComputerState(pub u64);

impl ComputerState {
    pub fn flags(self) -> Vec<Flag> {
        decode(self.0, &COMPUTER_STATE_FLAGS)
    }

    pub fn is_clean(self) -> bool {
        self.0 == 0
    }

    /// Labels for display: "Clean" for 0, else each pending action.
    pub fn labels(self) -> Vec<&'static str> {
        if self.is_clean() {
            vec!["Clean"]
        } else {
            self.flags().iter().map(|f| f.label).collect()
        }
    }

    pub fn worst(self) -> FlagSeverity {
        self.flags().iter().map(|f| f.severity).max().unwrap_or(FlagSeverity::Info)
    }

    pub fn documented() -> &'static [Flag] {
        &COMPUTER_STATE_FLAGS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn healthy_product_status_is_one_info_flag() {
        let flags = ProductStatus(PRODUCT_STATUS_HEALTHY).flags();
        assert_eq!(flags.len(), 1);
        assert_eq!(flags[0].label, "No status flags set (well initialised)");
        assert_eq!(ProductStatus(PRODUCT_STATUS_HEALTHY).worst(), FlagSeverity::Info);
    }

    #[test]
    fn product_status_decodes_each_bit() {
        for (bit, flag) in PRODUCT_STATUS_FLAGS.iter().enumerate() {
            assert_eq!(flag.value, 1 << bit, "table order follows the bit number");
            assert_eq!(ProductStatus(flag.value).flags(), vec![*flag]);
        }
        let combined = ProductStatus(32 | 128 | 524_288);
        let labels: Vec<_> = combined.flags().iter().map(|f| f.label).collect();
        assert_eq!(
            labels,
            ["AV signatures out of date", "No quick scan for the specified period", "No status flags set (well initialised)"]
        );
        assert_eq!(combined.worst(), FlagSeverity::Warning);
        assert_eq!(ProductStatus(1).worst(), FlagSeverity::Critical);
    }

    #[test]
    fn undocumented_bits_are_kept() {
        let flags = ProductStatus(1 << 30 | 1).flags();
        assert_eq!(flags.len(), 2);
        assert_eq!(flags[1].value, 1 << 30);
        assert_eq!(flags[1].label, "Undocumented flag");
    }

    #[test]
    fn computer_state() {
        assert_eq!(ComputerState(0).labels(), ["Clean"]);
        assert_eq!(ComputerState(2 | 8).labels(), ["Pending reboot", "Pending offline scan"]);
        assert_eq!(ComputerState(16).worst(), FlagSeverity::Critical);
        assert_eq!(ComputerState(0).worst(), FlagSeverity::Info);
    }
}

impl crate::json::FromJson for ProductStatus {
    fn from_json(v: &crate::json::Value) -> Result<Self, crate::json::JsonError> {
        <u64 as crate::json::FromJson>::from_json(v).map(ProductStatus)
    }
}

impl crate::json::FromJson for ComputerState {
    fn from_json(v: &crate::json::Value) -> Result<Self, crate::json::JsonError> {
        <u64 as crate::json::FromJson>::from_json(v).map(ComputerState)
    }
}
