//! Commitments and certificates published with a hotkey on a devnet, then read back through this
//! crate's read path.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use pylon_chain::publish::{AxonServe, NewCertificate, MAX_COMMITMENT_LEN};
use pylon_chain::{ChainClient, ChainConfig, Network, SubmitError};
use pylon_devnet::{dev_keypair, DevnetConfig, DevnetHandle, Scenario};
use pylon_wallet::HotkeySigner;

async fn setup() -> (DevnetHandle, ChainClient) {
    let devnet = pylon_devnet::spawn(DevnetConfig {
        port: 0,
        block_time: Duration::from_millis(200),
        scenario: Scenario::builtin_default(),
        ..DevnetConfig::default()
    })
    .await
    .expect("devnet starts");
    devnet.seal_block().await;
    let chain = ChainClient::start(ChainConfig {
        network: Network::parse(&devnet.ws_url()).unwrap(),
        archive: None,
        archive_cutoff: 300,
    });
    assert!(chain.wait_ready(Duration::from_secs(20)).await, "connects");
    (devnet, chain)
}

fn signer(uri: &str) -> HotkeySigner {
    HotkeySigner::from_private_key(&dev_keypair(uri).unwrap().secret_key_bytes()).unwrap()
}

#[tokio::test]
async fn a_commitment_set_by_a_hotkey_reads_back_with_its_block() {
    let (devnet, chain) = setup().await;
    let alice = signer("//Alice");
    // Longer than one Raw128 field: split on the way in, concatenated on the way out.
    let data: Vec<u8> = (0..200u8).collect();
    let included = chain
        .set_commitment(&alice, 3, &data)
        .await
        .expect("set_commitment is included");
    let at = chain.block(included.block_number as u32).await.unwrap();
    let stored = chain
        .commitment(3, alice.public_key(), &at)
        .await
        .unwrap()
        .expect("a commitment");
    assert_eq!(stored.data, data);
    assert_eq!(u64::from(stored.block), included.block_number);

    // Too long for a commitment: refused before anything is signed.
    assert!(matches!(
        chain
            .set_commitment(&alice, 3, &vec![1u8; MAX_COMMITMENT_LEN + 1])
            .await,
        Err(SubmitError::Call(_))
    ));
    // A hotkey not registered on the subnet: the pallet's error, by name.
    let ferdie = signer("//Ferdie");
    match chain.set_commitment(&ferdie, 3, b"hello").await {
        Err(SubmitError::Module { pallet, name, .. }) => {
            assert_eq!(
                (pallet.as_str(), name.as_str()),
                ("Commitments", "AccountNotAllowedCommit")
            )
        }
        other => panic!("expected a module error, got {other:?}"),
    }
    devnet.stop().await;
}

#[tokio::test]
async fn an_axon_served_with_a_certificate_publishes_the_certificate() {
    let (devnet, chain) = setup().await;
    // //Bob is a validator of netuid 3 without a certificate in the default scenario.
    let bob = signer("//Bob");
    let certificate = NewCertificate {
        algorithm: 1,
        public_key: vec![0x5a; 32],
    };
    let axon = AxonServe {
        version: 3,
        ip: IpAddr::V4(Ipv4Addr::new(10, 1, 2, 3)),
        port: 8443,
        protocol: 4,
    };
    // Port 0 is refused (by the chain's check, in the pool or at dispatch).
    let bad = AxonServe { port: 0, ..axon };
    let error = chain
        .serve_axon_tls(&bob, 3, &bad, &certificate)
        .await
        .expect_err("port 0");
    assert!(
        error.to_string().contains("InvalidPort") || matches!(error, SubmitError::Invalid(_)),
        "{error}"
    );
    let included = chain
        .serve_axon_tls(&bob, 3, &axon, &certificate)
        .await
        .expect("serve_axon_tls is included");
    let at = chain.block(included.block_number as u32).await.unwrap();
    let stored = chain
        .certificate(3, bob.public_key(), &at)
        .await
        .unwrap()
        .expect("a certificate");
    assert_eq!(stored.algorithm, 1);
    assert_eq!(stored.public_key, vec![0x5a; 32]);

    devnet.stop().await;
}
