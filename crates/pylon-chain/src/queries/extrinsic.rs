//! One extrinsic of a block, decoded by the metadata: pallet, call and named arguments.

use crate::client::ChainClient;
use crate::connection::Connection;
use crate::decode::{ss58, to_json, type_name};
use crate::error::ChainError;
use crate::model::{BlockRef, Extrinsic, ExtrinsicArg};

impl ChainClient {
    /// Extrinsic `index` of `block`; `None` when the block has fewer.
    pub async fn extrinsic(
        &self,
        block: &BlockRef,
        index: u32,
    ) -> Result<Option<Extrinsic>, ChainError> {
        self.route("extrinsic", block.number, |connection| async move {
            fetch_extrinsic(&connection, block, index).await
        })
        .await
    }
}

async fn fetch_extrinsic(
    connection: &Connection,
    block: &BlockRef,
    index: u32,
) -> Result<Option<Extrinsic>, ChainError> {
    let at = connection.at(block).await?;
    let extrinsics = at
        .extrinsics()
        .fetch()
        .await
        .map_err(ChainError::from_subxt)?;
    let Some(extrinsic) = extrinsics.iter().nth(index as usize) else {
        return Ok(None);
    };
    let extrinsic = extrinsic.map_err(|e| ChainError::Decode(e.to_string()))?;
    let metadata = at.metadata();
    let types = metadata.types();
    let mut args = Vec::new();
    for field in extrinsic.iter_call_data_fields() {
        let value = scale_value::scale::decode_as_type(&mut field.bytes(), field.type_id(), types)
            .map_err(|e| ChainError::Decode(format!("argument {}: {e}", field.name())))?;
        args.push(ExtrinsicArg {
            name: field.name().to_string(),
            type_name: type_name(field.type_id(), types),
            value: to_json(&value, types),
        });
    }
    // A `MultiAddress::Id` is variant 0 followed by the 32-byte account id.
    let address = extrinsic
        .address_bytes()
        .and_then(|bytes| match bytes {
            [0, rest @ ..] if rest.len() == 32 => rest.try_into().ok(),
            _ => None,
        })
        .map(ss58);
    Ok(Some(Extrinsic {
        block_number: block.number,
        index,
        hash: extrinsic.hash().0,
        length: encoded_length(extrinsic.bytes()),
        address,
        module: extrinsic.pallet_name().to_string(),
        function: extrinsic.call_name().to_string(),
        args,
    }))
}

/// The extrinsic's length as Substrate's decoders report it: its encoded bytes without the
/// compact length prefix that wraps them in a block body (that prefix's value).
fn encoded_length(bytes: &[u8]) -> u32 {
    use parity_scale_codec::{Compact, Decode};
    Compact::<u32>::decode(&mut &bytes[..])
        .map(|Compact(length)| length)
        .unwrap_or(bytes.len() as u32)
}

#[cfg(test)]
mod length_tests {
    use super::encoded_length;
    use parity_scale_codec::{Compact, Encode};

    #[test]
    fn the_length_prefix_is_not_counted() {
        let body = vec![7u8; 10];
        let mut bytes = Compact(10u32).encode();
        bytes.extend(&body);
        assert_eq!(bytes.len(), 11);
        assert_eq!(encoded_length(&bytes), 10);
        let long = vec![1u8; 300];
        let mut bytes = Compact(300u32).encode();
        bytes.extend(&long);
        assert_eq!(encoded_length(&bytes), 300);
    }
}
