//! The stateful schedule against tables worked out by hand from subtensor `v3.4.9-424`
//! (`should_run_epoch`, `drain_pending`, `epochs_deferred_this_block`), block by block.

use super::*;

fn clock(tempo: u16, last: u64) -> SubnetClock {
    SubnetClock {
        tempo,
        last_epoch_block: last,
        ..SubnetClock::default()
    }
}

/// Run blocks `from..=to`; returns, per block, the (netuid, step) pairs that were not idle.
fn run(
    subnets: &mut [(u16, SubnetClock)],
    from: u64,
    to: u64,
    cap: u8,
    inconsistent: &[u16],
) -> Vec<(u64, Vec<(u16, Step)>)> {
    let mut out = Vec::new();
    for block in from..=to {
        let steps = drain_pending(subnets, block, cap, |n| !inconsistent.contains(&n));
        let busy: Vec<(u16, Step)> = subnets
            .iter()
            .zip(steps)
            .filter(|(_, s)| *s != Step::Idle)
            .map(|((n, _), s)| (*n, s))
            .collect();
        if !busy.is_empty() {
            out.push((block, busy));
        }
    }
    out
}

#[test]
fn three_subnets_due_together_fire_two_and_defer_the_third_by_one_block() {
    // Fresh chain: every LastEpochBlock is 0, tempo 10, MaxEpochsPerBlock 2.
    let mut subnets = vec![(1, clock(10, 0)), (2, clock(10, 0)), (3, clock(10, 0))];
    assert_eq!(
        deferred_this_block(&subnets, 10, 2, |_| true),
        BTreeSet::from([3])
    );
    let table = run(&mut subnets, 1, 31, 2, &[]);
    use Step::*;
    assert_eq!(
        table,
        vec![
            (10, vec![(1, Fired), (2, Fired), (3, Deferred)]),
            // PendingEpochAt = 11 fires netuid 3 alone; its period now counts from 11.
            (11, vec![(3, Fired)]),
            (20, vec![(1, Fired), (2, Fired)]),
            (21, vec![(3, Fired)]),
            (30, vec![(1, Fired), (2, Fired)]),
            (31, vec![(3, Fired)]),
        ]
    );
    let (_, three) = subnets[2];
    assert_eq!(three.epoch_index, 3);
    assert_eq!(three.last_epoch_block, 31);
    assert_eq!(three.pending_epoch_at, 0);
    assert_eq!(three.blocks_since_last_step, 0);
    assert_eq!(three.next_epoch_start(), Some(41));
    let (_, one) = subnets[0];
    assert_eq!((one.epoch_index, one.last_epoch_block), (3, 30));
    assert_eq!(one.blocks_since_last_step, 1);
}

#[test]
fn a_deferred_subnet_is_in_the_deferred_set_only_while_the_cap_is_used() {
    let subnets = vec![(1, clock(10, 0)), (2, clock(10, 0)), (3, clock(10, 0))];
    assert!(deferred_this_block(&subnets, 9, 2, |_| true).is_empty());
    assert_eq!(
        deferred_this_block(&subnets, 10, 1, |_| true),
        BTreeSet::from([2, 3])
    );
    // An inconsistent subnet consumes its slot without using the cap.
    assert!(deferred_this_block(&subnets, 10, 2, |n| n != 1).is_empty());
}

#[test]
fn an_inconsistent_subnet_is_skipped_without_using_the_cap() {
    let mut subnets = vec![(1, clock(10, 0)), (2, clock(10, 0)), (3, clock(10, 0))];
    let table = run(&mut subnets, 10, 10, 2, &[1]);
    use Step::*;
    assert_eq!(
        table,
        vec![(10, vec![(1, Skipped), (2, Fired), (3, Fired)])]
    );
    let (_, one) = subnets[0];
    // The slot is consumed (index and LastEpochBlock advance) but no step ran.
    assert_eq!((one.epoch_index, one.last_epoch_block), (1, 10));
    assert_eq!(one.blocks_since_last_step, 1);
}

#[test]
fn a_pending_trigger_fires_early_and_the_period_restarts_from_it() {
    let mut subnets = vec![(1, clock(360, 0))];
    // trigger_epoch at block 100 with AdminFreezeWindow 10.
    subnets[0].1.pending_epoch_at = 110;
    assert_eq!(subnets[0].1.next_epoch_start(), Some(110));
    let table = run(&mut subnets, 1, 500, 2, &[]);
    assert_eq!(
        table,
        vec![(110, vec![(1, Step::Fired)]), (470, vec![(1, Step::Fired)])]
    );
    assert_eq!(subnets[0].1.pending_epoch_at, 0);
    assert_eq!(subnets[0].1.epoch_index, 2);
}

#[test]
fn a_pending_trigger_later_than_the_auto_epoch_is_cleared_by_it() {
    let mut subnets = vec![(1, clock(10, 0))];
    subnets[0].1.pending_epoch_at = 15;
    assert_eq!(subnets[0].1.next_epoch_start(), Some(10));
    let table = run(&mut subnets, 1, 20, 2, &[]);
    assert_eq!(
        table,
        vec![(10, vec![(1, Step::Fired)]), (20, vec![(1, Step::Fired)])]
    );
}

#[test]
fn set_tempo_cycle_reset_moves_the_next_epoch() {
    let mut subnets = vec![(1, clock(360, 0))];
    run(&mut subnets, 1, 299, 2, &[]);
    // Owner set_tempo(400) in block 300: LastEpochBlock = 300, next fire 700 (not 360).
    subnets[0].1.tempo = 400;
    subnets[0].1.last_epoch_block = 300;
    assert_eq!(subnets[0].1.next_epoch_start(), Some(700));
    let table = run(&mut subnets, 300, 700, 2, &[]);
    assert_eq!(table, vec![(700, vec![(1, Step::Fired)])]);
}

#[test]
fn tempo_zero_never_fires_even_past_max_tempo() {
    let mut subnets = vec![(1, clock(0, 0))];
    subnets[0].1.pending_epoch_at = 5;
    subnets[0].1.blocks_since_last_step = MAX_TEMPO + 10;
    assert_eq!(subnets[0].1.next_epoch_start(), None);
    assert!(run(&mut subnets, 1, 100, 2, &[]).is_empty());
    assert_eq!(subnets[0].1.blocks_since_last_step, MAX_TEMPO + 110);
}

#[test]
fn blocks_since_last_step_beyond_max_tempo_forces_an_epoch() {
    let mut subnets = vec![(1, clock(360, 1_000_000))];
    subnets[0].1.blocks_since_last_step = MAX_TEMPO - 1;
    // Counted up before the check: MAX_TEMPO is not beyond, MAX_TEMPO + 1 is.
    let table = run(&mut subnets, 100, 101, 2, &[]);
    assert_eq!(table, vec![(101, vec![(1, Step::Fired)])]);
}

#[test]
fn the_grid_runs_at_subtensors_old_offsets() {
    // netuid 1, tempo 360: (block + 2) % 361 == 360 → blocks 358, 719, …
    assert!(runs_epoch(1, 360, 358));
    assert!(runs_epoch(1, 360, 719));
    assert!(!runs_epoch(1, 360, 359));
    assert!(!runs_epoch(1, 0, 358));
    // The epoch block is the last block of its epoch on the grid.
    assert_eq!(grid_epoch_index(1, 360, 358), 0);
    assert_eq!(grid_epoch_index(1, 360, 359), 1);
}
