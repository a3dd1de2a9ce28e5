//! Reading and decoding stored records, with errors that name the record.

use pov_crypto::Hash;
use pov_protocol::block::{Block, BlockHeader, Certificate};
use pov_protocol::{codec, BlockEvent, Transaction};
use serde::de::DeserializeOwned;
use serde::Serialize;

use crate::engine::{prefix_end, Engine, Scan, Tree};
use crate::error::StoreError;
use crate::schema::{self, Head};
use crate::state_io::hex;

/// A finalized block as stored: the block and the certificate that made it final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredBlock {
    /// The block.
    pub block: Block,
    /// Its commit certificate.
    pub certificate: Certificate,
    /// What its start did before its transactions (parameter changes taking effect).
    pub start: Vec<BlockEvent>,
}

/// Decodes a stored value, naming the tree and key if it is damaged.
pub(crate) fn decode<T: Serialize + DeserializeOwned>(
    engine: &dyn Engine,
    tree: Tree,
    key: &[u8],
    bytes: &[u8],
    what: &str,
) -> Result<T, StoreError> {
    codec::decode_canonical(bytes).map_err(|e| {
        StoreError::corrupt(
            &engine.location(),
            format!(
                "{what} (tree `{tree}`, key {}) does not decode: {e}",
                hex(key)
            ),
        )
    })
}

/// Reads and decodes one value, if present.
pub(crate) fn get<T: Serialize + DeserializeOwned>(
    engine: &dyn Engine,
    tree: Tree,
    key: &[u8],
    what: &str,
) -> Result<Option<T>, StoreError> {
    match engine.get(tree, key)? {
        Some(bytes) => decode(engine, tree, key, &bytes, what).map(Some),
        None => Ok(None),
    }
}

/// The stored head, if any block was committed.
pub(crate) fn head(engine: &dyn Engine) -> Result<Option<Head>, StoreError> {
    get(engine, Tree::Meta, schema::meta::HEAD, "the head record")
}

/// The header at `height`, if stored.
pub(crate) fn header(engine: &dyn Engine, height: u64) -> Result<Option<BlockHeader>, StoreError> {
    get(
        engine,
        Tree::Chain,
        &schema::chain::header(height),
        &format!("the header of block {height}"),
    )
}

/// The transactions of the block at `height`, in order.
pub(crate) fn txs(engine: &dyn Engine, height: u64) -> Result<Vec<Transaction>, StoreError> {
    let prefix = schema::chain::txs_of(height);
    let end = prefix_end(&prefix);
    let entries = engine.scan(Scan::range(Tree::Chain, &prefix, end.as_deref()))?;
    let mut out = Vec::with_capacity(entries.len());
    for (i, (key, bytes)) in entries.iter().enumerate() {
        if *key != schema::chain::tx(height, i as u32) {
            return Err(StoreError::corrupt(
                &engine.location(),
                format!(
                    "transaction {i} of block {height} is missing (found key {} instead)",
                    hex(key)
                ),
            ));
        }
        out.push(decode(
            engine,
            Tree::Chain,
            key,
            bytes,
            &format!("transaction {i} of block {height}"),
        )?);
    }
    Ok(out)
}

/// The whole block at `height` with its certificate, if stored. A header without its
/// certificate is damage: both are written in the same batch.
pub(crate) fn block(engine: &dyn Engine, height: u64) -> Result<Option<StoredBlock>, StoreError> {
    let Some(header) = header(engine, height)? else {
        return Ok(None);
    };
    let certificate: Certificate = get(
        engine,
        Tree::Chain,
        &schema::chain::certificate(height),
        &format!("the certificate of block {height}"),
    )?
    .ok_or_else(|| {
        StoreError::corrupt(
            &engine.location(),
            format!("block {height} is stored without its certificate"),
        )
    })?;
    let txs = txs(engine, height)?;
    let block = Block { header, txs };
    if pov_protocol::block::tx_root(&block.txs) != block.header.tx_root {
        return Err(StoreError::corrupt(
            &engine.location(),
            format!("the transactions of block {height} do not match its header's tx_root"),
        ));
    }
    let start = start(engine, height)?;
    Ok(Some(StoredBlock {
        block,
        certificate,
        start,
    }))
}

/// What the start of block `height` did (empty when nothing, or no such block).
pub(crate) fn start(engine: &dyn Engine, height: u64) -> Result<Vec<BlockEvent>, StoreError> {
    Ok(get(
        engine,
        Tree::Chain,
        &schema::chain::start(height),
        &format!("the start events of block {height}"),
    )?
    .unwrap_or_default())
}

/// The height of the block with this hash, if stored.
pub(crate) fn height_of(engine: &dyn Engine, hash: &Hash) -> Result<Option<u64>, StoreError> {
    let key = schema::chain::block_hash(hash);
    match engine.get(Tree::Chain, &key)? {
        Some(bytes) => {
            let array: [u8; 8] = bytes.as_slice().try_into().map_err(|_| {
                StoreError::corrupt(
                    &engine.location(),
                    format!("block hash index entry {} is not a height", hex(&key)),
                )
            })?;
            Ok(Some(u64::from_be_bytes(array)))
        }
        None => Ok(None),
    }
}
