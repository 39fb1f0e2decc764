use super::*;

fn state(
    last_epoch_block: u64,
    pending_epoch_at: u64,
    epoch_index: u64,
    tempo: u16,
    blocks_since_last_step: u64,
    block: u64,
) -> EpochState {
    EpochState {
        block,
        tempo,
        last_epoch_block,
        pending_epoch_at,
        epoch_index,
        blocks_since_last_step,
    }
}

#[test]
fn should_run_epoch_follows_subtensor_424() {
    // run_coinbase.rs `should_run_epoch`: period `tempo` from LastEpochBlock.
    let s = state(100, 0, 5, 50, 0, 120);
    assert!(!s.should_run_epoch(149));
    assert!(s.should_run_epoch(150));
    // A pending fire (owner trigger or deferral) at or after its block.
    let s = state(100, 130, 5, 50, 0, 120);
    assert!(!s.should_run_epoch(129));
    assert!(s.should_run_epoch(130));
    // The safety net: more than MAX_TEMPO blocks since the last step.
    let s = state(100, 0, 5, 50, MAX_TEMPO + 1, 120);
    assert!(s.should_run_epoch(121));
    let s = state(100, 0, 5, 50, MAX_TEMPO, 120);
    assert!(!s.should_run_epoch(121));
    // Tempo 0 never runs, pending or not.
    assert!(!state(0, 5, 0, 0, MAX_TEMPO + 1, 10).should_run_epoch(10));
}

#[test]
fn a_fire_resets_the_schedule_and_counts_the_index() {
    let s = state(100, 0, 5, 10, 9, 109);
    let fired = s.after_block(110);
    assert_eq!(fired, state(110, 0, 6, 10, 0, 110));
    let quiet = fired.after_block(111);
    assert_eq!(quiet, state(110, 0, 6, 10, 1, 111));
    // A pending trigger fires early and is cleared.
    let fired = state(100, 104, 5, 10, 3, 103).after_block(104);
    assert_eq!(fired, state(104, 0, 6, 10, 0, 104));
}

#[test]
fn next_epoch_start_is_subtensors_get_next_epoch_start_block() {
    assert_eq!(state(100, 0, 5, 10, 0, 103).next_epoch_start(), Some(110));
    // The pending fire when sooner, the automatic one otherwise.
    assert_eq!(state(100, 104, 5, 10, 0, 103).next_epoch_start(), Some(104));
    assert_eq!(state(100, 130, 5, 10, 0, 103).next_epoch_start(), Some(110));
    assert_eq!(state(100, 0, 5, 0, 0, 103).next_epoch_start(), None);
}

#[test]
fn the_stateful_window_runs_from_the_last_fire_to_the_next() {
    let schedule = Schedule::Stateful(state(100, 0, 5, 10, 3, 103));
    let computed = Epoch {
        start: 100,
        end: 110,
        index: Some(5),
    };
    assert_eq!(schedule.epoch(None), Some(computed));
    // The runtime API's answer wins where the chain gives one.
    assert_eq!(
        schedule.epoch(Some(107)),
        Some(Epoch {
            end: 107,
            ..computed
        })
    );
    // A fire deferred past its slot (head 112, slot 110, P = 113): the window stays open until
    // the fire, which cannot come before the next block.
    let deferred = Schedule::Stateful(state(100, 113, 5, 10, 12, 112));
    assert_eq!(
        deferred.epoch(None),
        Some(Epoch {
            start: 100,
            end: 113,
            index: Some(5)
        })
    );
    assert_eq!(deferred.epoch(Some(110)).unwrap().end, 113);
    assert_eq!(
        Schedule::Stateful(state(0, 0, 0, 0, 0, 9)).epoch(None),
        None
    );
}

#[test]
fn jobs_expire_by_the_epoch_index_on_a_stateful_chain() {
    let epoch = Epoch {
        start: 100,
        end: 110,
        index: Some(5),
    };
    let at = |block, epoch_index| ChainPosition {
        block,
        epoch_index: Some(epoch_index),
    };
    // A fire delayed past the forecast end does not end the epoch; the index moving does, even
    // before the forecast end (an owner's trigger).
    assert!(!epoch.is_over_at(&at(115, 5)));
    assert!(epoch.is_over_at(&at(104, 6)));
    // Without an index on either side, the end block decides.
    let fixed = Epoch {
        start: 358,
        end: 719,
        index: None,
    };
    let at_block = |block| ChainPosition {
        block,
        epoch_index: None,
    };
    assert!(!fixed.is_over_at(&at_block(718)));
    assert!(fixed.is_over_at(&at_block(719)));
    assert!(epoch.is_over_at(&at_block(110)));
}

#[test]
fn first_reveal_block_matches_the_sdk_table() {
    // (LastEpochBlock, PendingEpochAt, SubnetEpochIndex, tempo, BlocksSinceLastStep, head,
    //  RevealPeriodEpochs) → first reveal block. Worked out from subtensor v3.4.9-424
    // (reveal before the epoch step, commits filed under the look-ahead epoch) and checked
    // against bittensor-core 0.1.5's `get_encrypted_commit_v2` (its round, taken at a block time
    // of 3000 s, gives `reveal block + 3 − head` exactly).
    type Case = (u64, u64, u64, u16, u64, u64, u64);
    let table: [(Case, u64); 15] = [
        // Commit at 101 is filed under 5; epoch 6 starts with the fire at 110.
        ((100, 0, 5, 10, 0, 100, 1), 110),
        ((100, 0, 5, 10, 0, 105, 1), 110),
        ((100, 0, 5, 10, 0, 108, 1), 110),
        // Included in the fire block 110: filed under 6, revealed from the fire at 120.
        ((100, 0, 5, 10, 0, 109, 1), 120),
        // Head 110 with the fire deferred: the commit at 111 is filed under 6; fires at 111
        // (slot overdue) and 121.
        ((100, 0, 5, 10, 0, 110, 1), 121),
        ((100, 0, 5, 10, 0, 120, 1), 131),
        // Two reveal periods: epoch 7, from the second fire.
        ((100, 0, 5, 10, 0, 100, 2), 120),
        // An owner's trigger pending at 104 starts epoch 6 there.
        ((100, 104, 5, 10, 0, 100, 1), 104),
        // Past the MAX_TEMPO safety net: the commit block fires at once.
        ((100, 0, 5, 10, MAX_TEMPO + 1, 100, 1), 111),
        // Tempo above MAX_TEMPO: the safety net fires after 50 401 blocks, and the look-ahead
        // sees it one block later.
        ((0, 0, 0, 65535, 0, 0, 1), 50_402),
        ((0, 0, 0, 50_000, 0, 0, 2), 100_000),
        ((0, 0, 0, 1, 0, 0, 1), 2),
        ((0, 0, 0, 360, 0, 0, 100), 36_000),
        ((0, 0, 0, 360, 0, 5, 1), 360),
        ((5, 0, 0, 360, 0, 5, 1), 365),
    ];
    for ((last, pending, index, tempo, since, head, period), reveal) in table {
        let schedule = Schedule::Stateful(state(last, pending, index, tempo, since, head));
        assert_eq!(
            schedule.first_reveal_block(period),
            Some(reveal),
            "L {last} P {pending} index {index} tempo {tempo} since {since} head {head} period {period}"
        );
    }
    assert_eq!(
        Schedule::Stateful(state(0, 0, 0, 0, 0, 5)).first_reveal_block(1),
        None
    );
}

#[test]
fn the_reveal_block_is_where_the_chain_looks_for_the_commit() {
    // Walk the chain block by block as subtensor does and check that the predicted block is the
    // first whose reveal step takes the commit's epoch, for tempos and heads around every fire.
    for tempo in [1u16, 2, 3, 10, 30, 360] {
        for period in [1u64, 2, 3] {
            for head in 0..(3 * u64::from(tempo) + 3) {
                let mut chain = state(0, 0, 0, tempo, 0, 0);
                for block in 1..=head {
                    chain = chain.after_block(block);
                }
                let predicted = Schedule::Stateful(chain)
                    .first_reveal_block(period)
                    .unwrap();
                // Block head + 1: the reveal step, the epoch step, then the commit extrinsic,
                // filed under the look-ahead epoch of the state it sees.
                let mut walk = chain.after_block(head + 1);
                let filed_under = walk.epoch_with_lookahead(head + 1);
                // Every later block: the reveal step takes the commits filed under
                // `look-ahead − period`, then the epoch step runs.
                let mut block = head + 2;
                let expected = loop {
                    if walk.epoch_with_lookahead(block) == filed_under + period {
                        break block;
                    }
                    walk = walk.after_block(block);
                    block += 1;
                };
                assert_eq!(
                    predicted, expected,
                    "tempo {tempo} period {period} head {head}"
                );
            }
        }
    }
}

#[test]
fn blocks_until_next_epoch_matches_subtensors_table() {
    // The table in subtensor's (pre-423) doc comment: (tempo, netuid) → first epoch block.
    for (tempo, netuid, first) in [
        (1, 0, 0),
        (1, 1, 1),
        (2, 0, 1),
        (2, 1, 0),
        (100, 0, 99),
        (100, 1, 98),
    ] {
        assert_eq!(
            blocks_until_next_epoch(netuid, tempo, 0),
            first,
            "tempo {tempo} netuid {netuid}"
        );
    }
    assert_eq!(blocks_until_next_epoch(3, 0, 10), u64::MAX);
}

#[test]
fn the_fixed_grid_runs_every_tempo_plus_one_blocks() {
    // tempo 360, netuid 1: runs where (b + 2) % 361 == 360, i.e. b = 358, 719, 1080, …
    assert_eq!(blocks_until_next_epoch(1, 360, 358), 0);
    assert_eq!(blocks_until_next_epoch(1, 360, 359), 360);
    assert_eq!(blocks_until_next_epoch(1, 360, 719), 0);
    let window = |start, end| {
        Some(Epoch {
            start,
            end,
            index: None,
        })
    };
    assert_eq!(epoch_containing(1, 360, 358), window(358, 719));
    assert_eq!(epoch_containing(1, 360, 500), window(358, 719));
    assert_eq!(epoch_containing(1, 360, 718), window(358, 719));
    assert_eq!(epoch_containing(1, 360, 719), window(719, 1080));
    // Before the first run after genesis the epoch starts at block 0, without underflow.
    assert_eq!(epoch_containing(0, 10, 3), window(0, 9));
    assert_eq!(epoch_containing(0, 10, 9), window(9, 20));
    assert_eq!(epoch_containing(0, 0, 9), None);
    let fixed = Schedule::Fixed {
        netuid: 1,
        tempo: 360,
        block: 500,
    };
    assert_eq!(fixed.epoch(Some(1)), window(358, 719));
    assert_eq!(
        fixed.position(),
        ChainPosition {
            block: 500,
            epoch_index: None
        }
    );
}

#[test]
fn the_fixed_grid_index_increments_the_block_after_the_run() {
    // tempo 360, netuid 1: index = (b + 2) / 361. Runs at 358 and 719; the index moves at 359
    // and 720.
    assert_eq!(epoch_index(1, 360, 358), 0);
    assert_eq!(epoch_index(1, 360, 359), 1);
    assert_eq!(epoch_index(1, 360, 719), 1);
    assert_eq!(epoch_index(1, 360, 720), 2);
}

#[test]
fn the_fixed_grid_reveals_at_the_first_block_of_the_reveal_epoch() {
    // tempo 100, netuid 1, head 1000: included at 1001, index (1001 + 2) / 101 = 9; reveal
    // period 2 → epoch 11, first block 11 * 101 − 2 = 1109.
    let fixed = |block| Schedule::Fixed {
        netuid: 1,
        tempo: 100,
        block,
    };
    assert_eq!(fixed(1000).first_reveal_block(2), Some(1109));
    // Head 1007: included at 1008, where the index is already 10 → epoch 12 → 1210.
    assert_eq!(fixed(1007).first_reveal_block(2), Some(1210));
    assert_eq!(
        Schedule::Fixed {
            netuid: 1,
            tempo: 0,
            block: 5
        }
        .first_reveal_block(1),
        None
    );
}

#[test]
fn epochs_written_before_the_index_existed_still_read() {
    let old: Epoch = serde_json::from_str(r#"{"start": 358, "end": 719}"#).unwrap();
    assert_eq!(
        old,
        Epoch {
            start: 358,
            end: 719,
            index: None
        }
    );
    let schedule = Schedule::Stateful(state(100, 0, 5, 10, 3, 103));
    let json = serde_json::to_string(&schedule).unwrap();
    assert!(json.contains(r#""model":"stateful""#), "{json}");
    assert_eq!(serde_json::from_str::<Schedule>(&json).unwrap(), schedule);
}
