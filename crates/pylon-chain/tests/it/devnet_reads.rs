//! The chain layer against a devnet: every query returns the default scenario's values.

use pylon_chain::ChainError;
use pylon_test_support::{devnet, manual_devnet_config, public_key, ready_chain, ss58};

#[tokio::test]
async fn queries_return_the_scenario_and_missing_blocks_are_unknown() {
    let devnet = devnet(manual_devnet_config()).await;
    let chain = ready_chain(&devnet).await;
    let head = chain.latest_block().unwrap();
    assert_eq!(head.number, devnet.best_number());

    let neurons = chain.neurons(1, &head).await.expect("neurons");
    assert_eq!(neurons.len(), 256);
    let alice = &neurons[0];
    assert_eq!(alice.uid, 0);
    assert_eq!(alice.hotkey, ss58("//Alice"));
    assert_eq!(alice.coldkey, ss58("//Alice//coldkey"));
    assert_eq!(alice.axon_info.ip.to_string(), "10.0.1.1");
    assert_eq!(alice.axon_info.port, 8091);
    assert_eq!(alice.axon_info.protocol, 4);
    assert!(alice.validator_permit);
    assert_eq!(alice.validator_trust, 60_000);
    assert_eq!(alice.dividends, 10_000);
    assert_eq!(alice.emission, 1_000_000_000);
    assert_eq!(alice.stake, 1_000_000_000_000_000);
    assert_eq!(alice.stakes.alpha, 1_000_000_000_000_000);
    assert_eq!(neurons[1].stakes.alpha, 500_000_000_000_000);
    assert!(chain.neurons(77, &head).await.unwrap().is_empty());

    let by_number = chain.block(head.number).await.unwrap();
    assert_eq!(by_number, head);
    let genesis = chain.block(0).await.unwrap();
    assert_eq!(genesis.number, 0);
    assert!(matches!(
        chain.block(head.number + 1000).await,
        Err(ChainError::UnknownBlock(_))
    ));
    assert!(chain.timestamp(&head).await.unwrap() > 0);

    let certificates = chain.certificates(1, &head).await.unwrap();
    assert_eq!(certificates.len(), 1);
    assert_eq!(certificates[0].0, ss58("//Alice"));
    assert_eq!(certificates[0].1.algorithm, 1);
    assert_eq!(certificates[0].1.public_key, vec![0xab; 32]);
    let alice_key = public_key("//Alice");
    let bob_key = public_key("//Bob");
    assert!(chain
        .certificate(1, alice_key, &head)
        .await
        .unwrap()
        .is_some());
    assert!(chain
        .certificate(1, bob_key, &head)
        .await
        .unwrap()
        .is_none());

    let commitments = chain.commitments(1, &head).await.unwrap();
    assert_eq!(commitments.len(), 1);
    assert_eq!(commitments[0].0, ss58("//Alice"));
    assert_eq!(
        String::from_utf8(commitments[0].1.data.clone()).unwrap(),
        "pylon-devnet commitment for netuid 1"
    );
    assert!(chain.commitment(1, bob_key, &head).await.unwrap().is_none());
    assert!(chain
        .revealed_commitments(1, &head)
        .await
        .unwrap()
        .is_empty());

    let block_one = chain.block(1).await.unwrap();
    let timestamp_set = chain
        .extrinsic(&block_one, 0)
        .await
        .unwrap()
        .expect("inherent");
    assert_eq!(timestamp_set.module, "Timestamp");
    assert_eq!(timestamp_set.function, "set");
    assert_eq!(timestamp_set.address, None);
    assert_eq!(timestamp_set.args[0].name, "now");
    assert!(timestamp_set.args[0].value.as_u64().unwrap() > 0);
    assert!(chain.extrinsic(&block_one, 5).await.unwrap().is_none());

    let main_subnet = chain.subnet_settings(1, &head).await.unwrap();
    assert_eq!(main_subnet.tempo, 360);
    assert!(!main_subnet.commit_reveal_weights_enabled);
    assert_eq!(main_subnet.weights_set_rate_limit, 100);
    assert_eq!(main_subnet.weights_version_key, 0);
    assert!(main_subnet.block_time_ms > 0);
    let commit_reveal = chain.subnet_settings(2, &head).await.unwrap();
    assert_eq!(commit_reveal.tempo, 100);
    assert!(commit_reveal.commit_reveal_weights_enabled);
    let beacon = chain.drand_beacon(&head).await.unwrap();
    assert_eq!(beacon.public_key.len(), 96);
    assert_eq!(beacon.period, 3);
    assert_eq!(beacon.genesis_time, 1_692_803_367);

    devnet.stop().await;
}
