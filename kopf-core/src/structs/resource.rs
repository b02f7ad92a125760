//! What handlers select (a [`Selector`]) and what discovery resolves it to (a [`Resource`]).

use std::fmt;

/// A served API resource, as discovery describes it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Resource {
    /// `""` for the core group.
    pub group: String,
    pub version: String,
    pub plural: String,
    pub kind: String,
    pub singular: String,
    pub short_names: Vec<String>,
    pub categories: Vec<String>,
    pub namespaced: bool,
    /// Whether discovery lists `<plural>/status` (then status is patched separately).
    pub has_status_subresource: bool,
    pub verbs: Vec<String>,
}

impl Resource {
    /// `v1` or `group/version`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// The collection URL, namespaced when a namespace is given.
    pub fn url(&self, namespace: Option<&str>) -> String {
        let prefix = if self.group.is_empty() {
            format!("/api/{}", self.version)
        } else {
            format!("/apis/{}/{}", self.group, self.version)
        };
        match namespace {
            Some(ns) if self.namespaced => format!("{prefix}/namespaces/{ns}/{}", self.plural),
            _ => format!("{prefix}/{}", self.plural),
        }
    }
}

/// kopf's name for a resource in log lines: `kopfexamples.v1.kopf.dev`, `pods.v1`.
impl fmt::Display for Resource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            write!(f, "{}.{}", self.plural, self.version)
        } else {
            write!(f, "{}.{}.{}", self.plural, self.version, self.group)
        }
    }
}

/// What a handler asks for, before discovery: as kopf accepts it.
///
/// `"kopfexamples"`, `"kopfexamples.kopf.dev"`, `("kopf.dev", "v1", "kopfexamples")`,
/// `("v1", "pods")`, `("kopf.dev/v1", "kopfexamples")`; the name may be a plural,
/// singular, kind or short name.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Selector {
    pub group: Option<String>,
    pub version: Option<String>,
    pub name: String,
}

impl Selector {
    /// Builds a selector from the strings given to a handler attribute, as kopf reads them.
    pub fn from_parts(parts: &[&str]) -> Result<Selector, String> {
        match parts {
            [name] => match name.split_once('.') {
                Some((plural, group)) => Ok(Selector {
                    group: Some(group.to_string()),
                    version: None,
                    name: plural.to_string(),
                }),
                None => Ok(Selector {
                    group: None,
                    version: None,
                    name: name.to_string(),
                }),
            },
            [api_version, name] => match api_version.split_once('/') {
                Some((group, version)) => Ok(Selector {
                    group: Some(group.to_string()),
                    version: Some(version.to_string()),
                    name: name.to_string(),
                }),
                None => Ok(Selector {
                    group: Some(String::new()),
                    version: Some(api_version.to_string()),
                    name: name.to_string(),
                }),
            },
            [group, version, name] => Ok(Selector {
                group: Some(group.to_string()),
                version: Some(version.to_string()),
                name: name.to_string(),
            }),
            _ => Err(format!(
                "a resource is selected by 1 to 3 strings, got {}",
                parts.len()
            )),
        }
    }

    /// Whether a discovered resource is what this selector names.
    pub fn matches(&self, resource: &Resource) -> bool {
        if self
            .group
            .as_ref()
            .is_some_and(|group| group != &resource.group)
        {
            return false;
        }
        if self
            .version
            .as_ref()
            .is_some_and(|version| version != &resource.version)
        {
            return false;
        }
        let name = self.name.as_str();
        resource.plural == name
            || resource.singular == name
            || resource.kind == name
            || resource.kind.eq_ignore_ascii_case(name)
            || resource.short_names.iter().any(|short| short == name)
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.group, &self.version) {
            (Some(group), Some(version)) if group.is_empty() => {
                write!(f, "{}.{version}", self.name)
            }
            (Some(group), Some(version)) => write!(f, "{}.{version}.{group}", self.name),
            (Some(group), None) => write!(f, "{}.{group}", self.name),
            _ => write!(f, "{}", self.name),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selectors_parse_as_kopf_reads_them() {
        let s = Selector::from_parts(&["kopfexamples.kopf.dev"]).unwrap();
        assert_eq!(
            (s.group.as_deref(), s.name.as_str()),
            (Some("kopf.dev"), "kopfexamples")
        );
        let s = Selector::from_parts(&["v1", "pods"]).unwrap();
        assert_eq!(
            (s.group.as_deref(), s.version.as_deref()),
            (Some(""), Some("v1"))
        );
        let s = Selector::from_parts(&["kopf.dev/v1", "kopfexamples"]).unwrap();
        assert_eq!(s.version.as_deref(), Some("v1"));
        assert!(Selector::from_parts(&[]).is_err());
    }
}
