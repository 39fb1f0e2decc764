//! TLS certificates neurons published: `SubtensorModule.NeuronCertificates(netuid, hotkey)`.

use scale_value::{At, Value};
use subxt::dynamic;

use crate::client::ChainClient;
use crate::connection::Connection;
use crate::decode::bytes_of;
use crate::error::ChainError;
use crate::model::{BlockRef, Certificate};
use crate::subnet_maps::iter_subnet;

const PALLET: &str = "SubtensorModule";
const ITEM: &str = "NeuronCertificates";

impl ChainClient {
    /// Every certificate on the subnet at `block`, by hotkey (ss58).
    pub async fn certificates(
        &self,
        netuid: u16,
        block: &BlockRef,
    ) -> Result<Vec<(String, Certificate)>, ChainError> {
        self.route("certificates", block.number, |connection| async move {
            all_certificates(&connection, netuid, block).await
        })
        .await
    }

    /// One hotkey's certificate at `block`, if it published one.
    pub async fn certificate(
        &self,
        netuid: u16,
        hotkey: [u8; 32],
        block: &BlockRef,
    ) -> Result<Option<Certificate>, ChainError> {
        self.route("certificate", block.number, |connection| async move {
            let at = connection.at(block).await?;
            let value = at
                .storage()
                .try_fetch(
                    dynamic::storage::<(u16, [u8; 32]), Value>(PALLET, ITEM),
                    (netuid, hotkey),
                )
                .await
                .map_err(ChainError::from_subxt)?;
            value
                .map(|v| {
                    v.decode()
                        .map_err(ChainError::from_subxt)
                        .and_then(|v| certificate_of(&v))
                })
                .transpose()
        })
        .await
    }
}

async fn all_certificates(
    connection: &Connection,
    netuid: u16,
    block: &BlockRef,
) -> Result<Vec<(String, Certificate)>, ChainError> {
    iter_subnet(connection, PALLET, ITEM, netuid, block)
        .await?
        .into_iter()
        .map(|(hotkey, value)| Ok((hotkey, certificate_of(&value)?)))
        .collect()
}

fn certificate_of(value: &Value) -> Result<Certificate, ChainError> {
    let algorithm = value
        .at("algorithm")
        .and_then(|a| a.as_u128())
        .ok_or_else(|| ChainError::Decode("certificate without an algorithm".into()))?;
    let public_key = value
        .at("public_key")
        .map(bytes_of)
        .ok_or_else(|| ChainError::Decode("certificate without a public key".into()))?;
    Ok(Certificate {
        algorithm: algorithm as u8,
        public_key,
    })
}
