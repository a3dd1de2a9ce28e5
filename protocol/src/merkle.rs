//! Binary Merkle trees over blake3 (the `tx_root` and the `state_root`).
//!
//! Leaves and inner nodes are hashed with different one-byte tags, so a leaf can never pass
//! for an inner node (the second-preimage trick against untagged trees). An odd node at
//! the end of a level is promoted unchanged rather than paired with itself, so two
//! different lists of leaves can never share a root (the duplication flaw Bitcoin's tree
//! has). The empty tree's root is [`Hash::ZERO`].

use pov_crypto::{hash_parts, Hash};
use serde::{Deserialize, Serialize};

const LEAF: &[u8] = &[0];
const NODE: &[u8] = &[1];

/// The hash of a leaf holding `data`.
pub fn leaf_hash(data: &[u8]) -> Hash {
    hash_parts(&[LEAF, data])
}

fn node_hash(left: &Hash, right: &Hash) -> Hash {
    hash_parts(&[NODE, left.as_bytes(), right.as_bytes()])
}

/// The level above `level`: pairs hashed together, an odd last node promoted.
fn parent_level(level: &[Hash]) -> Vec<Hash> {
    level
        .chunks(2)
        .map(|pair| match pair {
            [l, r] => node_hash(l, r),
            [single] => *single,
            _ => Hash::ZERO,
        })
        .collect()
}

/// The root over already-hashed leaves, in order.
pub fn root(leaves: &[Hash]) -> Hash {
    if leaves.is_empty() {
        return Hash::ZERO;
    }
    let mut level = leaves.to_vec();
    while level.len() > 1 {
        level = parent_level(&level);
    }
    level[0]
}

/// The sibling hashes from a leaf up to the root, with the side each one sits on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Proof {
    /// The leaf's position.
    pub index: u64,
    /// Total leaves in the tree.
    pub leaves: u64,
    /// Siblings from the bottom up; levels where the node was promoted have none.
    pub siblings: Vec<Hash>,
}

/// The proof that leaf `index` is in the tree over `leaves`.
pub fn prove(leaves: &[Hash], index: usize) -> Option<Proof> {
    if index >= leaves.len() {
        return None;
    }
    let mut siblings = Vec::new();
    let mut level = leaves.to_vec();
    let mut i = index;
    while level.len() > 1 {
        let sibling = i ^ 1;
        if sibling < level.len() {
            siblings.push(level[sibling]);
        }
        level = parent_level(&level);
        i /= 2;
    }
    Some(Proof {
        index: index as u64,
        leaves: leaves.len() as u64,
        siblings,
    })
}

/// Checks that `leaf` sits at the proof's position under `expected_root`.
pub fn verify(proof: &Proof, leaf: Hash, expected_root: &Hash) -> bool {
    let mut hash = leaf;
    let mut i = proof.index;
    let mut width = proof.leaves;
    let mut siblings = proof.siblings.iter();
    if i >= width {
        return false;
    }
    while width > 1 {
        let sibling = i ^ 1;
        if sibling < width {
            let Some(s) = siblings.next() else {
                return false;
            };
            hash = if i.is_multiple_of(2) {
                node_hash(&hash, s)
            } else {
                node_hash(s, &hash)
            };
        }
        i /= 2;
        width = width.div_ceil(2);
    }
    siblings.next().is_none() && hash == *expected_root
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn leaves(n: usize) -> Vec<Hash> {
        (0..n)
            .map(|i| leaf_hash(&(i as u64).to_le_bytes()))
            .collect()
    }

    #[test]
    fn odd_leaves_are_promoted_not_duplicated() {
        let three = leaves(3);
        let mut four = three.clone();
        four.push(three[2]);
        assert_ne!(root(&three), root(&four));
        assert_eq!(root(&[]), Hash::ZERO);
        assert_eq!(root(&three[..1]), three[0]);
    }

    proptest! {
        #[test]
        fn every_leaf_proves_and_tampering_fails(n in 1usize..40, pick in any::<prop::sample::Index>()) {
            let ls = leaves(n);
            let r = root(&ls);
            let i = pick.index(n);
            let proof = prove(&ls, i).expect("in range");
            prop_assert!(verify(&proof, ls[i], &r));
            prop_assert!(!verify(&proof, leaf_hash(b"other"), &r));
            if n > 1 {
                let mut moved = proof.clone();
                moved.index = ((i + 1) % n) as u64;
                prop_assert!(!verify(&moved, ls[i], &r) || ls[(i + 1) % n] == ls[i]);
            }
        }
    }
}
