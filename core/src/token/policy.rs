//! The limited-use-key policy: how many single-use keys a card starts with, when to ask for
//! more, and how many. Replenishment is a pull the wallet makes after a payment or on sync —
//! never something a payment waits for.

/// Key counts and the replenishment threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPolicy {
    /// Keys fetched with the credentials.
    pub initial_keys: u16,
    /// Replenish when this many or fewer keys remain.
    pub threshold: usize,
    /// Keys asked for per replenishment.
    pub batch: u16,
}

impl Default for KeyPolicy {
    fn default() -> Self {
        Self {
            initial_keys: 10,
            threshold: 3,
            batch: 10,
        }
    }
}

impl KeyPolicy {
    pub fn needs_replenish(&self, remaining: usize) -> bool {
        remaining <= self.threshold
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn threshold_is_inclusive() {
        let p = KeyPolicy {
            initial_keys: 10,
            threshold: 3,
            batch: 10,
        };
        assert!(p.needs_replenish(0));
        assert!(p.needs_replenish(3));
        assert!(!p.needs_replenish(4));
    }
}
