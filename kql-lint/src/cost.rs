//! A query's cost: the sum of its findings' weights, for `kql check --max-cost`.

/// The weight of a finding's code (0 for codes that are not lints).
pub fn weight(code: &str) -> u32 {
    crate::find(code).map_or(0, |l| l.cost)
}

/// A query's cost and what it is made of.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cost {
    /// The sum of the weights.
    pub total: u32,
    /// Each weighing code with its count and weight, in code order.
    pub parts: Vec<(String, usize, u32)>,
}

impl Cost {
    /// The cost of findings with these codes.
    pub fn of<'a>(codes: impl IntoIterator<Item = &'a str>) -> Cost {
        let mut parts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
        for c in codes {
            if weight(c) > 0 {
                *parts.entry(c.to_string()).or_default() += 1;
            }
        }
        let parts: Vec<(String, usize, u32)> = parts
            .into_iter()
            .map(|(c, n)| {
                let w = weight(&c);
                (c, n, w)
            })
            .collect();
        Cost { total: parts.iter().map(|(_, n, w)| *n as u32 * w).sum(), parts }
    }

    /// `KQLW004 5 + 2 x KQLW007 2`: the parts, for a message.
    pub fn explain(&self) -> String {
        self.parts
            .iter()
            .map(|(c, n, w)| if *n == 1 { format!("{c} ({w})") } else { format!("{n} x {c} ({w})") })
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weights_add_up_and_non_lints_weigh_nothing() {
        let c = Cost::of(["KQLW004", "KQLW007", "KQLW007", "KQL001", "KQLW001"]);
        assert_eq!(c.total, 5 + 2 * 2);
        assert_eq!(c.explain(), "KQLW004 (5) + 2 x KQLW007 (2)");
    }
}
