//! Commitments and certificates published with a hotkey on a devnet, then read back through this
//! crate's read path.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use pylon_chain::publish::{AxonServe, NewCertificate, MAX_COMMITMENT_LEN};
use pylon_chain::{ChainClient, SubmitError};
use pylon_devnet::{DevnetHandle, Scenario};
use pylon_test_support::{devnet, devnet_config, ready_chain, signer, subxt_api};
use pylon_timelock::RoundClock;
use scale_value::{At, Value, ValueDef};
use subxt::dynamic;

/// The built-in scenario with a block every 200 ms (submissions are included without a seal).
async fn setup() -> (DevnetHandle, ChainClient) {
    let config = devnet_config(Duration::from_millis(200), Scenario::builtin_default());
    let devnet = devnet(config).await;
    let chain = ready_chain(&devnet).await;
    (devnet, chain)
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

/// `Commitments.CommitmentOf[(netuid, hotkey)]` read with subxt as a dynamic value.
async fn commitment_value(devnet: &DevnetHandle, netuid: u16, hotkey: [u8; 32]) -> Value {
    subxt_api(devnet)
        .await
        .at_current_block()
        .await
        .unwrap()
        .storage()
        .fetch(
            dynamic::storage::<(u16, [u8; 32]), Value>("Commitments", "CommitmentOf"),
            (netuid, hotkey),
        )
        .await
        .expect("CommitmentOf entry")
        .decode()
        .unwrap()
}

#[tokio::test]
async fn a_revealed_commitment_is_stored_timelocked_to_the_round_it_reports() {
    let (devnet, chain) = setup().await;
    let alice = signer("//Alice");
    let set = chain
        .set_revealed_commitment(&alice, 3, b"model-v2", 20)
        .await
        .expect("the timelocked commitment is included");
    let stored = commitment_value(&devnet, 3, alice.public_key()).await;
    let field = stored
        .at("info")
        .and_then(|info| info.at("fields"))
        .and_then(|fields| fields.at(0))
        .expect("one field");
    // `fields` is a BoundedVec: a newtype around the sequence, so its first item is the
    // sequence itself; the Data variant is inside.
    let field = match &field.value {
        ValueDef::Composite(_) => field.at(0).expect("the first Data field"),
        _ => field,
    };
    let ValueDef::Variant(variant) = &field.value else {
        panic!("a Data variant, got {field:?}");
    };
    assert_eq!(variant.name, "TimelockEncrypted");
    assert_eq!(
        field.at("reveal_round").and_then(|r| r.as_u128()),
        Some(u128::from(set.reveal_round))
    );
    // The round is in the future: nothing can open it yet.
    let head = chain.latest_block().unwrap();
    let beacon = chain.drand_beacon(&head).await.unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let clock = RoundClock {
        genesis_time: beacon.genesis_time,
        period: beacon.period,
    };
    assert!(set.reveal_round > clock.round_at(now));
    devnet.stop().await;
}

#[tokio::test]
async fn a_revealed_commitment_is_revealed_at_its_round() {
    let (devnet, chain) = setup().await;
    let alice = signer("//Alice");
    // The round is a wall-clock time from the chain's measured pace, which needs a few blocks
    // (before that the declared 12 s slot is assumed and the round lies a minute ahead).
    let mut heads = chain.heads();
    while heads.borrow_and_update().as_ref().map_or(0, |h| h.number) < 4 {
        heads.changed().await.unwrap();
    }
    let set = chain
        .set_revealed_commitment(&alice, 3, b"model-v2", 5)
        .await
        .expect("included");
    let mut heads = chain.heads();
    loop {
        let head = heads.borrow_and_update().clone().unwrap();
        let revealed = chain
            .revealed_commitment(3, alice.public_key(), &head)
            .await
            .unwrap();
        if let Some(found) = revealed.first() {
            assert_eq!(found.data, b"model-v2");
            assert!(found.reveal_block > set.included.block_number);
            break;
        }
        // Well past the round (about a second ahead; 3 s per round, 200 ms per block): it should
        // have been revealed. The window is wide because a loaded machine slows the blocks.
        assert!(
            u64::from(head.number) < set.included.block_number + 600,
            "not revealed by block {}: round {}, included at {}",
            head.number,
            set.reveal_round,
            set.included.block_number
        );
        heads.changed().await.unwrap();
    }
    devnet.stop().await;
}
