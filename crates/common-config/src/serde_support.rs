//! serde helpers named by the fields that [`http_client_struct!`](crate::http_client_struct)
//! generates (serde attribute strings need a path that resolves in the using crate).

use serde::{Deserialize, Deserializer};

/// Deserialises `null` as the type's default, as Go's YAML decoder leaves a zero value.
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// `true`, for `#[serde(default = ...)]`.
pub fn default_true() -> bool {
    true
}

/// Whether `b` is false, for `skip_serializing_if`.
pub fn is_false(b: &bool) -> bool {
    !*b
}
