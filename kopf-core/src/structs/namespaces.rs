//! kopf's `-n` patterns: names, globs (`*`, `?`), commas, and `!` negations.

/// The namespaces an operator serves.
#[derive(Clone, Debug, Default)]
pub struct NamespacePatterns {
    include: Vec<String>,
    exclude: Vec<String>,
}

impl NamespacePatterns {
    pub fn parse(patterns: &[String]) -> Self {
        let mut parsed = NamespacePatterns::default();
        for pattern in patterns
            .iter()
            .flat_map(|p| p.split(','))
            .map(str::trim)
            .filter(|p| !p.is_empty())
        {
            match pattern.strip_prefix('!') {
                Some(negated) => parsed.exclude.push(negated.to_string()),
                None => parsed.include.push(pattern.to_string()),
            }
        }
        parsed
    }

    /// No inclusions at all: every namespace (minus exclusions).
    pub fn is_cluster_wide(&self) -> bool {
        self.include.is_empty() && self.exclude.is_empty()
    }

    pub fn matches(&self, namespace: &str) -> bool {
        let included = self.include.is_empty() || self.include.iter().any(|p| glob(p, namespace));
        included && !self.exclude.iter().any(|p| glob(p, namespace))
    }

    /// When every pattern is a plain name: those names (each watched on its own).
    pub fn exact_names(&self) -> Option<Vec<String>> {
        let plain = |p: &String| !p.contains(['*', '?', '[']);
        (!self.include.is_empty() && self.exclude.is_empty() && self.include.iter().all(plain))
            .then(|| self.include.clone())
    }
}

fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_as_kopf_reads_them() {
        let patterns = NamespacePatterns::parse(&["ns-*,!ns-skip".into(), "default".into()]);
        assert!(patterns.matches("ns-a") && patterns.matches("default"));
        assert!(!patterns.matches("ns-skip") && !patterns.matches("other"));
        assert_eq!(patterns.exact_names(), None);
        let exact = NamespacePatterns::parse(&["a".into(), "b".into()]);
        assert_eq!(exact.exact_names(), Some(vec!["a".into(), "b".into()]));
        assert!(NamespacePatterns::parse(&[]).is_cluster_wide());
    }
}
