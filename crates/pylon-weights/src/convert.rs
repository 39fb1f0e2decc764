//! Float weights → the chain's u16 weights, exactly as the reference service (turbobt) does it:
//! divide by the largest weight, scale to 65535, and round with Python's `round`, which sends
//! ties to the even neighbour (`f64::round_ties_even`), not away from zero. All-zero weights stay
//! zeros (the reference sends them as such rather than failing).

use serde::{Deserialize, Serialize};

const U16_MAX: f64 = 65535.0;

/// Weights as the chain takes them: parallel uid and value vectors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChainWeights {
    pub uids: Vec<u16>,
    pub values: Vec<u16>,
}

/// Convert `(uid, weight)` pairs (weights finite and ≥ 0, as validation guarantees).
pub fn to_chain_weights(weights: &[(u16, f64)]) -> ChainWeights {
    let max = weights.iter().map(|&(_, w)| w).fold(0.0_f64, f64::max);
    let uids = weights.iter().map(|&(uid, _)| uid).collect();
    let values = weights
        .iter()
        .map(|&(_, weight)| {
            if max == 0.0 {
                0
            } else {
                // Same operation order as the reference, `round(weight / max * 65535)`, so the
                // floating-point result is bit-identical. The cast saturates, and the ratio is ≤ 1.
                ((weight / max) * U16_MAX).round_ties_even() as u16
            }
        })
        .collect();
    ChainWeights { uids, values }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(weights: &[f64]) -> Vec<u16> {
        let pairs: Vec<(u16, f64)> = weights
            .iter()
            .enumerate()
            .map(|(uid, &w)| (uid as u16, w))
            .collect();
        to_chain_weights(&pairs).values
    }

    // Expected values computed by hand and checked with Python's `round(w / max(ws) * 65535)`.
    #[test]
    fn max_becomes_65535_and_the_rest_scale_with_it() {
        assert_eq!(values(&[1.0, 2.0, 3.0]), vec![21845, 43690, 65535]);
        // 0.1/0.7*65535 = 9362.14…, 0.2/0.7*65535 = 18724.28…
        assert_eq!(values(&[0.1, 0.2, 0.7]), vec![9362, 18724, 65535]);
        // 0.25*65535 = 16383.75, 0.75*65535 = 49151.25
        assert_eq!(values(&[0.25, 1.0]), vec![16384, 65535]);
        assert_eq!(values(&[0.75, 1.0]), vec![49151, 65535]);
        assert_eq!(values(&[3.0, 3.0]), vec![65535, 65535]);
        assert_eq!(values(&[1e-9, 1.0]), vec![0, 65535]);
    }

    #[test]
    fn halves_round_to_even_like_python() {
        // 0.5*65535 = 32767.5 → 32768 (even, and also away from zero).
        assert_eq!(values(&[0.5, 1.0]), vec![32768, 65535]);
        // 2.5 → 2 and 4.5 → 4 where rounding away from zero would give 3 and 5.
        assert_eq!(values(&[2.5, 65535.0]), vec![2, 65535]);
        assert_eq!(values(&[4.5, 65535.0]), vec![4, 65535]);
        assert_eq!(values(&[1.5, 65535.0]), vec![2, 65535]);
    }

    #[test]
    fn all_zero_weights_stay_zero() {
        assert_eq!(values(&[0.0, 0.0]), vec![0, 0]);
        assert_eq!(values(&[0.0]), vec![0]);
    }

    #[test]
    fn uids_keep_their_order_and_pair_with_their_values() {
        let converted = to_chain_weights(&[(5, 1.0), (2, 0.5)]);
        assert_eq!(
            converted,
            ChainWeights {
                uids: vec![5, 2],
                values: vec![65535, 32768]
            }
        );
    }
}
