//! Small value types shared by the configuration sections.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

pub use watchfire_common_config::{Duration, Secret};

/// A byte size with Prometheus' (base-2) units: `10MB` = 10 MiB; `0` alone is zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct ByteSize(pub u64);

impl std::str::FromStr for ByteSize {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        parse_bytes(s).ok_or_else(|| {
            // The wording of github.com/alecthomas/units, which Prometheus uses.
            let unit: String = s
                .trim_start_matches(|c: char| c.is_ascii_digit() || c == '.')
                .to_owned();
            format!("units: unknown unit {unit} in {s}")
        })
    }
}

fn parse_bytes(s: &str) -> Option<ByteSize> {
    if s == "0" {
        return Some(ByteSize(0));
    }
    let mut rest = s;
    let mut total: f64 = 0.0;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let num_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        if num_len == 0 {
            return None;
        }
        let n: f64 = rest[..num_len].parse().ok()?;
        rest = &rest[num_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        rest = &rest[unit_len..];
        let power = match unit {
            "B" => 0,
            "KB" | "KiB" => 1,
            "MB" | "MiB" => 2,
            "GB" | "GiB" => 3,
            "TB" | "TiB" => 4,
            "PB" | "PiB" => 5,
            "EB" | "EiB" => 6,
            _ => return None,
        };
        total += n * 1024f64.powi(power);
    }
    if !total.is_finite() || total > u64::MAX as f64 {
        return None;
    }
    Some(ByteSize(total as u64))
}

impl fmt::Display for ByteSize {
    /// Formats like Go's `units.Base2Bytes`: `15MiB`, `1GiB512MiB`, `0B`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const UNITS: [&str; 7] = ["EiB", "PiB", "TiB", "GiB", "MiB", "KiB", "B"];
        let mut n = self.0;
        if n == 0 {
            return f.write_str("0B");
        }
        for (i, unit) in UNITS.iter().enumerate() {
            let size = 1u64 << (10 * (6 - i));
            let q = n / size;
            if q > 0 {
                write!(f, "{q}{unit}")?;
                n -= q * size;
            }
        }
        Ok(())
    }
}

impl<'de> Deserialize<'de> for ByteSize {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // Numbers are accepted as text too, so that `100` reports the missing unit
        // the way Prometheus does instead of a type error.
        let s = Option::<StringOrNumber>::deserialize(d)?
            .map(|v| v.0)
            .unwrap_or_default();
        if s.is_empty() {
            return Ok(ByteSize(0));
        }
        s.parse().map_err(serde::de::Error::custom)
    }
}

impl Serialize for ByteSize {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A scalar read as text whether YAML typed it as a string or a number.
struct StringOrNumber(String);

impl<'de> Deserialize<'de> for StringOrNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = StringOrNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string or number")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<StringOrNumber, E> {
                Ok(StringOrNumber(v.to_owned()))
            }
            fn visit_u64<E: serde::de::Error>(self, v: u64) -> Result<StringOrNumber, E> {
                Ok(StringOrNumber(v.to_string()))
            }
            fn visit_i64<E: serde::de::Error>(self, v: i64) -> Result<StringOrNumber, E> {
                Ok(StringOrNumber(v.to_string()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<StringOrNumber, E> {
                Ok(StringOrNumber(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

/// Metric/label name validation scheme (`metric_name_validation_scheme`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ValidationScheme {
    /// Any non-empty UTF-8 name (Prometheus 3 default).
    #[default]
    Utf8,
    /// `[a-zA-Z_][a-zA-Z0-9_]*`.
    Legacy,
}

impl ValidationScheme {
    /// Whether `name` is a valid label name under this scheme.
    pub fn is_valid_label_name(self, name: &str) -> bool {
        self.relabel().is_valid_label_name(name)
    }

    /// The equivalent relabel validation setting.
    pub fn relabel(self) -> watchfire_relabel::NameValidation {
        match self {
            ValidationScheme::Utf8 => watchfire_relabel::NameValidation::Utf8,
            ValidationScheme::Legacy => watchfire_relabel::NameValidation::Legacy,
        }
    }
}

/// Reads YAML `null` as the type's default, as Go's decoder leaves zero values.
pub(crate) fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

pub(crate) fn is_false(b: &bool) -> bool {
    !*b
}

pub(crate) fn is_zero_u64(n: &u64) -> bool {
    *n == 0
}

pub(crate) fn is_zero_bytes(n: &ByteSize) -> bool {
    n.0 == 0
}

pub(crate) fn is_zero_duration(d: &Duration) -> bool {
    d.0 == 0
}

pub(crate) fn default_true() -> bool {
    true
}

/// Expands `$VAR`/`${VAR}` from the environment like Go's `os.Expand` as Prometheus
/// applies it to external label values; `$$` is a literal `$`.
pub(crate) fn expand_env(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(pos) = rest.find('$') {
        out.push_str(&rest[..pos]);
        rest = &rest[pos + 1..];
        if let Some(r) = rest.strip_prefix('$') {
            out.push('$');
            rest = r;
        } else if let Some(r) = rest.strip_prefix('{') {
            match r.find('}') {
                Some(end) if end > 0 => {
                    out.push_str(&std::env::var(&r[..end]).unwrap_or_default());
                    rest = &r[end + 1..];
                }
                // Go drops a malformed `${` reference entirely.
                _ => rest = r,
            }
        } else {
            let len = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if len == 0 {
                out.push('$');
            } else {
                out.push_str(&std::env::var(&rest[..len]).unwrap_or_default());
                rest = &rest[len..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_sizes() {
        assert_eq!("10MB".parse::<ByteSize>().unwrap().0, 10 << 20);
        assert_eq!("1KiB".parse::<ByteSize>().unwrap().0, 1024);
        assert_eq!("0".parse::<ByteSize>().unwrap().0, 0);
        assert_eq!(
            "1GB512MB".parse::<ByteSize>().unwrap().0,
            (1 << 30) + (512 << 20)
        );
        assert_eq!(
            "100".parse::<ByteSize>().unwrap_err(),
            "units: unknown unit  in 100"
        );
        assert_eq!(ByteSize(15 << 20).to_string(), "15MiB");
        assert_eq!(ByteSize(0).to_string(), "0B");
    }

    #[test]
    fn env_expansion() {
        // SAFETY-free: tests read a variable that is always set.
        let home = std::env::var("PATH").unwrap_or_default();
        assert_eq!(expand_env("a-$PATH-b"), format!("a-{home}-b"));
        assert_eq!(expand_env("${PATH}"), home);
        assert_eq!(expand_env("$$x"), "$x");
        assert_eq!(expand_env("plain"), "plain");
        assert_eq!(expand_env("$WATCHFIRE_SURELY_UNSET_VAR"), "");
    }
}

/// Supplies the error for a null entry in a list, in Prometheus' wording.
pub(crate) trait NullEntry {
    const MSG: &'static str;
}

macro_rules! null_entry {
    ($($name:ident = $msg:literal;)*) => {
        $(
            pub(crate) struct $name;
            impl NullEntry for $name {
                const MSG: &'static str = $msg;
            }
        )*
    };
}

null_entry! {
    NullTargetRelabel = "empty or null target relabeling rule in scrape config";
    NullMetricRelabel = "empty or null metric relabeling rule in scrape config";
    NullStatic = "empty or null section in static_configs";
    NullFileSd = "empty or null section in file_sd_configs";
    NullAlertRelabel = "empty or null alert relabeling rule";
    NullAlertmanager = "empty or null section in alertmanagers";
    NullAmTargetRelabel = "empty or null Alertmanager target relabeling rule";
    NullAmAlertRelabel = "empty or null Alertmanager alert relabeling rule";
    NullWriteRelabel = "empty or null relabeling rule in remote write config";
    NullScrapeConfig = "empty or null scrape config section";
    NullRemoteWrite = "empty or null remote write config section";
    NullRemoteRead = "empty or null remote read config section";
}

/// Deserialises a list (null: empty) whose entries may not be null, failing at the
/// null entry itself so that the error carries its position and index.
pub(crate) fn non_null_seq<'de, D, T, M>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
    M: NullEntry,
{
    struct V<T, M>(std::marker::PhantomData<(T, M)>);
    impl<'de, T: Deserialize<'de>, M: NullEntry> serde::de::Visitor<'de> for V<T, M> {
        type Value = Vec<T>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a list")
        }
        fn visit_none<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_unit<E: serde::de::Error>(self) -> Result<Vec<T>, E> {
            Ok(Vec::new())
        }
        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Vec<T>, D2::Error> {
            d.deserialize_seq(self)
        }
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<T>, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element::<NonNull<T, M>>()? {
                out.push(item.0);
            }
            Ok(out)
        }
    }
    d.deserialize_option(V::<T, M>(std::marker::PhantomData))
}

/// One list entry that must not be null.
struct NonNull<T, M>(T, std::marker::PhantomData<M>);

impl<'de, T: Deserialize<'de>, M: NullEntry> Deserialize<'de> for NonNull<T, M> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match Option::<T>::deserialize(d)? {
            Some(v) => Ok(NonNull(v, std::marker::PhantomData)),
            None => Err(serde::de::Error::custom(M::MSG)),
        }
    }
}
