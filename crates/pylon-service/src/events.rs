//! The live event stream of a subnet, `…/subnet/{netuid}/events` (Server-Sent Events; the wire
//! format is docs/SERVICE.md's "Live events").
//!
//! One [`EventHub`] per process, driven by one task following the chain's best head
//! ([`follow_heads`]): every subscriber of every subnet costs that one chain subscription. The
//! hub tracks only subnets that have subscribers (and, for [`LINGER`] after the last one left,
//! so a reconnect resumes), and for each new head — and each head the watch skipped, fetched by
//! number so `block` events have no gaps — publishes into the subnet's channel:
//!
//! - `block`: number, hash, timestamp (the `…/block/latest` answer of that block);
//! - `epoch`: the chain ran the subnet's epoch in that block, as its own storage says
//!   (`LastEpochBlock` = the block and `SubnetEpochIndex` moved, where the metadata has them;
//!   the fixed `tempo + 1` grid otherwise);
//! - `neurons`: the neurons answer at the block differs from the previous block's (its
//!   `neurons` part; the ETag, which covers the block too, is the new answer's);
//! - `weights` (identity streams only): the identity's weights job changed state, forwarded
//!   from the writer's job watchers ([`forward_jobs`]).
//!
//! A channel is a `tokio::sync::broadcast` (every subscriber a position in one shared ring) plus
//! the last [`REPLAY_EVENTS`] events for `Last-Event-ID` reconnects. A subscriber that falls
//! [`CHANNEL_EVENTS`] behind gets a last `dropped` event and its stream ends, so no subscriber
//! holds memory the others do not.

use std::collections::{HashMap, VecDeque};
use std::convert::Infallible;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::str::FromStr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::IntoResponse;
use futures::Stream;
use parking_lot::Mutex;
use pylon_chain::BlockRef;
use pylon_weights::epoch::{blocks_until_next_epoch, epoch_index, Schedule};
use serde_json::json;
use tokio::sync::broadcast::{self, error::RecvError};

use crate::access::Scope;
use crate::error::ApiError;
use crate::metrics;
use crate::reads;
use crate::routes::{head, AppResult, St};
use crate::state::AppState;
use crate::writes::submitter::pinned_schedule;

/// Events kept per subnet for `Last-Event-ID` reconnects.
pub const REPLAY_EVENTS: usize = 512;
/// How far (in events) a subscriber may fall behind before it is dropped.
pub const CHANNEL_EVENTS: usize = 1024;
/// A comment line after this much silence keeps proxies from closing the stream.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);
/// The reconnect delay the stream asks its clients for (`retry:`).
pub const RETRY: Duration = Duration::from_millis(2000);
/// A subnet stays tracked this long after its last subscriber left, so a reconnect resumes.
pub const LINGER: Duration = Duration::from_secs(120);
/// Heads the hub catches up at most after a stall (older skipped blocks get no events).
pub const MAX_CATCH_UP: u32 = 256;
/// The subnet reads of one block (epoch schedule, neurons) are given up after this.
const DETAILS_TIMEOUT: Duration = Duration::from_secs(30);

/// `<block>-<n>`: the head when the event was published, and its place among that block's
/// events of the subnet. Ordered as published.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct EventId {
    pub block: u32,
    pub n: u32,
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.block, self.n)
    }
}

impl FromStr for EventId {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        let (block, n) = text.trim().split_once('-').ok_or(())?;
        Ok(EventId {
            block: block.parse().map_err(|_| ())?,
            n: n.parse().map_err(|_| ())?,
        })
    }
}

/// One published event of a subnet.
#[derive(Debug)]
pub struct Published {
    pub id: EventId,
    pub kind: &'static str,
    /// One line of JSON.
    pub data: String,
    /// Only this identity's streams get it (`weights`); `None`: every stream of the subnet.
    pub identity: Option<String>,
}

impl Published {
    fn event(&self) -> Event {
        Event::default()
            .id(self.id.to_string())
            .event(self.kind)
            .data(&self.data)
    }

    fn visible_to(&self, identity: Option<&str>) -> bool {
        self.identity.is_none() || self.identity.as_deref() == identity
    }
}

/// A tracked subnet: its channel, replay buffer, and what the next block is compared with.
struct Channel {
    sender: broadcast::Sender<Arc<Published>>,
    replay: VecDeque<Arc<Published>>,
    last: Option<EventId>,
    subscribers: usize,
    /// When the last subscriber left (`None` while any is subscribed).
    idle_since: Option<Instant>,
    /// `SubnetEpochIndex` at the previous block (stateful schedules).
    epoch_index: Option<u64>,
    /// A digest of the previous block's neurons (without its `block` part).
    neurons: Option<u64>,
}

impl Channel {
    fn new() -> Self {
        Channel {
            sender: broadcast::channel(CHANNEL_EVENTS).0,
            replay: VecDeque::with_capacity(REPLAY_EVENTS),
            last: None,
            subscribers: 0,
            idle_since: None,
            epoch_index: None,
            neurons: None,
        }
    }
}

/// The subnets' channels, and the bound on open streams.
pub struct EventHub {
    channels: Mutex<HashMap<u16, Channel>>,
    open: AtomicUsize,
    max_subscribers: usize,
    /// Chain resets seen (another genesis): the head follower starts over at each.
    resets: AtomicU64,
}

impl EventHub {
    pub fn new(max_subscribers: usize) -> Self {
        EventHub {
            channels: Mutex::new(HashMap::new()),
            open: AtomicUsize::new(0),
            max_subscribers,
            resets: AtomicU64::new(0),
        }
    }

    /// The node serves another chain now: every stream ends (its events were of the old chain;
    /// a reconnect gets a `gap`, then the new chain's blocks) and the heads are followed afresh.
    pub fn chain_reset(&self) {
        self.resets.fetch_add(1, Ordering::AcqRel);
        self.close();
    }

    /// Streams open now.
    pub fn open_streams(&self) -> usize {
        self.open.load(Ordering::Relaxed)
    }

    /// Publish on a tracked subnet (nothing when it is not tracked); its id follows the
    /// subnet's previous one (`block` never goes back, so ids only increase).
    pub fn publish(
        &self,
        netuid: u16,
        block: u32,
        kind: &'static str,
        data: String,
        identity: Option<String>,
    ) {
        let mut channels = self.channels.lock();
        let Some(channel) = channels.get_mut(&netuid) else {
            return;
        };
        let id = match channel.last {
            Some(last) if last.block >= block => EventId {
                block: last.block,
                n: last.n + 1,
            },
            _ => EventId { block, n: 0 },
        };
        channel.last = Some(id);
        let published = Arc::new(Published {
            id,
            kind,
            data,
            identity,
        });
        if channel.replay.len() == REPLAY_EVENTS {
            channel.replay.pop_front();
        }
        channel.replay.push_back(published.clone());
        // No receiver (every subscriber left, the subnet lingers) is not an error.
        let _ = channel.sender.send(published);
    }

    /// End every open stream (at shutdown): the channels go, their subscribers' streams end.
    pub fn close(&self) {
        self.channels.lock().clear();
    }

    /// Subnets to publish on; those idle past [`LINGER`] are forgotten here.
    pub fn tracked(&self) -> Vec<u16> {
        let mut channels = self.channels.lock();
        channels.retain(|_, c| c.idle_since.is_none_or(|at| at.elapsed() < LINGER));
        let mut netuids: Vec<u16> = channels.keys().copied().collect();
        netuids.sort_unstable();
        netuids
    }

    /// Open a stream on `netuid`: the events after `last_event_id` from the replay buffer (or a
    /// `gap` event when they are not all there), then live ones. 503 past the subscriber cap.
    pub fn subscribe(
        self: &Arc<Self>,
        netuid: u16,
        identity: Option<String>,
        last_event_id: Option<&str>,
    ) -> Result<Subscription, ApiError> {
        if self.open.fetch_add(1, Ordering::AcqRel) >= self.max_subscribers {
            self.open.fetch_sub(1, Ordering::AcqRel);
            return Err(ApiError::Unavailable(format!(
                "{} event streams are open (PYLON_EVENTS_MAX_SUBSCRIBERS)",
                self.max_subscribers
            )));
        }
        metrics::global().event_streams.inc();
        let guard = OpenStream {
            hub: Arc::clone(self),
            netuid,
        };
        let mut channels = self.channels.lock();
        let channel = channels.entry(netuid).or_insert_with(Channel::new);
        channel.subscribers += 1;
        channel.idle_since = None;
        let receiver = channel.sender.subscribe();
        let mut first = VecDeque::new();
        if let Some(text) = last_event_id {
            let known = text
                .parse::<EventId>()
                .ok()
                .and_then(|id| channel.replay.iter().position(|p| p.id == id));
            match known {
                Some(at) => first.extend(
                    channel
                        .replay
                        .iter()
                        .skip(at + 1)
                        .filter(|p| p.visible_to(identity.as_deref()))
                        .map(|p| p.event()),
                ),
                None => first.push_back(gap(text)),
            }
        }
        Ok(Subscription {
            first,
            receiver,
            identity,
            _open: guard,
        })
    }

    /// Record the subnet's `SubnetEpochIndex` at the newest block; the previous one.
    fn swap_epoch_index(&self, netuid: u16, index: u64) -> Option<u64> {
        let mut channels = self.channels.lock();
        channels
            .get_mut(&netuid)
            .and_then(|c| c.epoch_index.replace(index))
    }

    /// Record the digest of the subnet's neurons at the newest block; the previous one.
    fn swap_neurons(&self, netuid: u16, digest: u64) -> Option<u64> {
        let mut channels = self.channels.lock();
        channels
            .get_mut(&netuid)
            .and_then(|c| c.neurons.replace(digest))
    }
}

fn gap(last_event_id: &str) -> Event {
    let shown: String = last_event_id.chars().take(64).collect();
    Event::default().event("gap").data(
        json!({
            "reason": "Last-Event-ID is not in the replay buffer (too old, or from before a restart): events were missed; refetch the state",
            "last_event_id": shown,
        })
        .to_string(),
    )
}

fn dropped(missed: u64) -> Event {
    Event::default().event("dropped").data(
        json!({
            "reason": format!("the stream fell {missed} events behind (more than {CHANNEL_EVENTS}): reconnect with Last-Event-ID"),
        })
        .to_string(),
    )
}

/// An open stream's place in the count; given back when the stream is dropped.
struct OpenStream {
    hub: Arc<EventHub>,
    netuid: u16,
}

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.hub.open.fetch_sub(1, Ordering::AcqRel);
        metrics::global().event_streams.dec();
        if let Some(channel) = self.hub.channels.lock().get_mut(&self.netuid) {
            channel.subscribers = channel.subscribers.saturating_sub(1);
            if channel.subscribers == 0 {
                channel.idle_since = Some(Instant::now());
            }
        }
    }
}

/// One subscriber's stream: what it is sent first (replay, or a gap), then the live channel.
pub struct Subscription {
    first: VecDeque<Event>,
    receiver: broadcast::Receiver<Arc<Published>>,
    identity: Option<String>,
    _open: OpenStream,
}

impl Subscription {
    /// `retry:`, the first events, then live ones; a `dropped` event ends it.
    pub fn into_stream(mut self) -> impl Stream<Item = Result<Event, Infallible>> + Send {
        self.first.push_front(Event::default().retry(RETRY));
        futures::stream::unfold(Some(self), |state| async move {
            let mut sub = state?;
            if let Some(event) = sub.first.pop_front() {
                return Some((Ok(event), Some(sub)));
            }
            loop {
                match sub.receiver.recv().await {
                    Ok(published) => {
                        if published.visible_to(sub.identity.as_deref()) {
                            return Some((Ok(published.event()), Some(sub)));
                        }
                    }
                    Err(RecvError::Lagged(missed)) => return Some((Ok(dropped(missed)), None)),
                    Err(RecvError::Closed) => return None,
                }
            }
        })
    }
}

/// Live events of the subnet, as Server-Sent Events: `block` on every new head (none skipped),
/// `epoch` when the subnet's epoch ran, `neurons` when its neurons changed, and on identity
/// routes `weights` when the identity's weights job on the subnet changed state. Each event's
/// `id` is `<block>-<n>`; reconnect with `Last-Event-ID` to resume (a `gap` event says events
/// were missed). See docs/SERVICE.md "Live events".
#[utoipa::path(get, path = "/events",
    params(("Last-Event-ID" = Option<String>, Header,
        description = "The id of the last event received: the stream resumes after it")),
    responses(
        (status = 200, content_type = "text/event-stream", body = String,
            description = "The event stream (never ends on its own unless the subscriber is dropped)"),
        (status = 404, description = "The subnet does not exist at the head"),
        (status = 503, description = "PYLON_EVENTS_MAX_SUBSCRIBERS streams are open")))]
pub async fn events(State(state): St, scope: Scope, headers: HeaderMap) -> AppResult {
    let at = head(&state, &scope)?;
    let netuid = scope.netuid;
    if state.chain.alpha_price(netuid, &at).await?.is_none() {
        return Err(ApiError::NotFound(format!(
            "subnet {netuid} does not exist at block {}",
            at.number
        )));
    }
    let last_event_id = headers
        .get("last-event-id")
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned());
    let identity = scope.identity.map(|identity| identity.name);
    let subscription = state
        .events
        .subscribe(netuid, identity, last_event_id.as_deref())?;
    let mut response = Sse::new(subscription.into_stream())
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE).text("keep-alive"))
        .into_response();
    // Proxies that buffer (nginx) pass the stream on as it comes.
    response.headers_mut().insert(
        "x-accel-buffering",
        axum::http::HeaderValue::from_static("no"),
    );
    Ok(response)
}

/// Follow the chain's best head and publish each block's events to the tracked subnets, every
/// block number once and in order (heads the watch skipped are fetched by number).
pub async fn follow_heads(state: Arc<AppState>) {
    let mut heads = state.chain.heads();
    let mut last: Option<u32> = None;
    let mut resets = state.events.resets.load(Ordering::Acquire);
    loop {
        if heads.changed().await.is_err() {
            return;
        }
        let Some(head) = heads.borrow_and_update().clone() else {
            continue;
        };
        let now = state.events.resets.load(Ordering::Acquire);
        if now != resets {
            (resets, last) = (now, None);
        }
        let from = match last {
            None => head.number,
            Some(last) if head.number > last => {
                (last + 1).max(head.number.saturating_sub(MAX_CATCH_UP))
            }
            // The same height again (another fork) or lower (a reorg): ids and `block` numbers
            // only go forward. (A reset chain starts over, above.)
            Some(_) => continue,
        };
        if state.events.tracked().is_empty() {
            last = Some(head.number);
            continue;
        }
        for number in from..=head.number {
            let block = if number == head.number {
                head.clone()
            } else {
                match state.chain.block(number).await {
                    Ok(block) => block,
                    Err(error) => {
                        tracing::warn!(number, %error, "events: cannot fetch a skipped head; retrying on the next head");
                        break;
                    }
                }
            };
            if let Err(error) = on_block(&state, &block).await {
                tracing::warn!(number, %error, "events: no block info; retrying on the next head");
                break;
            }
            last = Some(number);
        }
    }
}

/// Publish `block` and then the subnets' own events of that block.
async fn on_block(state: &Arc<AppState>, block: &BlockRef) -> Result<(), pylon_chain::ChainError> {
    let hub = &state.events;
    let netuids = hub.tracked();
    if netuids.is_empty() {
        return Ok(());
    }
    let info = reads::block_info(state, block).await?;
    let data = String::from_utf8_lossy(&info.body).into_owned();
    for &netuid in &netuids {
        hub.publish(netuid, block.number, "block", data.clone(), None);
    }
    let details = futures::future::join_all(
        netuids
            .iter()
            .map(|&netuid| subnet_events(state, netuid, block)),
    );
    match tokio::time::timeout(DETAILS_TIMEOUT, details).await {
        Ok(all) => {
            for (netuid, events) in netuids.into_iter().zip(all) {
                for (kind, data) in events {
                    hub.publish(netuid, block.number, kind, data, None);
                }
            }
        }
        Err(_) => tracing::warn!(
            block = block.number,
            "events: the subnets' epoch and neurons reads took too long; skipped for this block"
        ),
    }
    Ok(())
}

/// The subnet's `epoch` and `neurons` events of `block`, if any.
async fn subnet_events(
    state: &Arc<AppState>,
    netuid: u16,
    block: &BlockRef,
) -> Vec<(&'static str, String)> {
    let (epoch, neurons) = tokio::join!(
        epoch_event(state, netuid, block),
        neurons_event(state, netuid, block)
    );
    epoch
        .map(|data| ("epoch", data))
        .into_iter()
        .chain(neurons.map(|data| ("neurons", data)))
        .collect()
}

/// `epoch` when the subnet's epoch ran in `block`, judged from the chain's own schedule: with
/// the stateful scheduler's storage (the metadata has it), `LastEpochBlock` is the block and
/// `SubnetEpochIndex` moved since the previous block; on the fixed grid, the block is a grid
/// point.
async fn epoch_event(state: &Arc<AppState>, netuid: u16, block: &BlockRef) -> Option<String> {
    let storage = match state.chain.epoch_storage(netuid, block).await {
        Ok(storage) => storage,
        Err(error) => {
            tracing::debug!(netuid, block = block.number, %error, "events: epoch schedule read failed");
            return None;
        }
    };
    let pinned = pinned_schedule(storage);
    let number = u64::from(block.number);
    let (fired, index, next_start) = match pinned.schedule {
        Schedule::Stateful(s) => {
            let previous = state.events.swap_epoch_index(netuid, s.epoch_index);
            let fired = s.tempo != 0
                && s.last_epoch_block == number
                && previous.is_none_or(|p| s.epoch_index > p);
            let next = pinned.next_epoch_start.or_else(|| s.next_epoch_start());
            (fired, s.epoch_index, next)
        }
        Schedule::Fixed { netuid, tempo, .. } => (
            tempo != 0 && blocks_until_next_epoch(netuid, tempo, number) == 0,
            // The grid's index of the epoch this run starts.
            epoch_index(netuid, tempo, number + 1),
            Some(number + u64::from(tempo) + 1),
        ),
    };
    fired.then(|| {
        json!({"netuid": netuid, "index": index, "block": number, "next_start": next_start})
            .to_string()
    })
}

/// `neurons` when the subnet's neurons at `block` differ from the previous block's.
async fn neurons_event(state: &Arc<AppState>, netuid: u16, block: &BlockRef) -> Option<String> {
    let rendered = match reads::neurons(state, netuid, block).await {
        Ok(rendered) => rendered,
        Err(error) => {
            tracing::debug!(netuid, block = block.number, %error, "events: neurons read failed");
            return None;
        }
    };
    let previous = state
        .events
        .swap_neurons(netuid, neurons_digest(&rendered.body));
    let changed = previous.is_some_and(|p| p != neurons_digest(&rendered.body));
    changed.then(|| {
        json!({"netuid": netuid, "block": block.number, "etag": rendered.etag}).to_string()
    })
}

/// A digest of a neurons answer without its `block` (which differs every block).
fn neurons_digest(body: &[u8]) -> u64 {
    let key = b"\"neurons\":";
    let from = body
        .windows(key.len())
        .position(|window| window == key)
        .unwrap_or(0);
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    body[from..].hash(&mut hasher);
    hasher.finish()
}

/// Publish the writer's weights job changes on their subnets, to the job's identity only.
pub async fn forward_jobs(state: Arc<AppState>) {
    let Some(writer) = &state.writer else {
        return;
    };
    let mut changes = writer.job_events.subscribe();
    loop {
        let change = match changes.recv().await {
            Ok(change) => change,
            Err(RecvError::Lagged(missed)) => {
                tracing::warn!(missed, "events: weights job changes were missed");
                continue;
            }
            Err(RecvError::Closed) => return,
        };
        let job = crate::writes::weights::job_wire(&change.job);
        let block = match &change.job.state {
            pylon_weights::job::JobState::Submitted { at_block, .. } => Some(*at_block),
            _ => job.included_block,
        };
        let data = json!({
            "netuid": job.netuid,
            "job_id": job.job_id.to_string(),
            "status": job.status,
            "block": block,
            "error": job.reason.or(job.last_error),
        })
        .to_string();
        let head = state.chain.head().map_or(0, |head| head.number);
        state.events.publish(
            job.netuid,
            head,
            "weights",
            data,
            Some(change.job.key.identity.clone()),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_parse_back_and_order_as_published() {
        let id: EventId = "120-3".parse().unwrap();
        assert_eq!(id, EventId { block: 120, n: 3 });
        assert_eq!(id.to_string(), "120-3");
        for bad in ["", "120", "-1", "a-b", "1-2-3", "99999999999-0"] {
            assert!(bad.parse::<EventId>().is_err(), "{bad}");
        }
        assert!(EventId { block: 5, n: 9 } < EventId { block: 6, n: 0 });
    }

    #[tokio::test]
    async fn replay_resumes_after_a_known_id_and_a_lost_one_is_a_gap() {
        let hub = Arc::new(EventHub::new(10));
        let _first = hub.subscribe(1, None, None).unwrap();
        for block in 10..=12 {
            hub.publish(1, block, "block", format!("{block}"), None);
        }
        hub.publish(1, 12, "weights", "w".into(), Some("alice".into()));
        let ids = |sub: &Subscription| sub.first.len();
        assert_eq!(ids(&hub.subscribe(1, None, Some("10-0")).unwrap()), 2);
        assert_eq!(
            ids(&hub
                .subscribe(1, Some("alice".into()), Some("10-0"))
                .unwrap()),
            3
        );
        let stale = hub.subscribe(1, None, Some("3-0")).unwrap();
        assert_eq!(stale.first.len(), 1, "one gap event");
        let garbage = hub.subscribe(1, None, Some("x")).unwrap();
        assert_eq!(garbage.first.len(), 1);
    }

    #[tokio::test]
    async fn subscribers_past_the_cap_are_refused_and_leaving_frees_a_place() {
        let hub = Arc::new(EventHub::new(2));
        let a = hub.subscribe(1, None, None).unwrap();
        let _b = hub.subscribe(2, None, None).unwrap();
        assert!(matches!(
            hub.subscribe(1, None, None),
            Err(ApiError::Unavailable(_))
        ));
        drop(a);
        assert_eq!(hub.open_streams(), 1);
        assert!(hub.subscribe(1, None, None).is_ok());
    }

    #[tokio::test]
    async fn a_subscriber_that_falls_behind_gets_dropped_and_its_stream_ends() {
        use futures::StreamExt;
        let hub = Arc::new(EventHub::new(10));
        let slow = hub.subscribe(1, None, None).unwrap();
        for i in 0..CHANNEL_EVENTS as u32 + 5 {
            hub.publish(1, i, "block", format!("{i}"), None);
        }
        let events: Vec<_> = tokio::time::timeout(
            Duration::from_secs(5),
            slow.into_stream().collect::<Vec<_>>(),
        )
        .await
        .expect("the stream ends by itself");
        let text: Vec<String> = events
            .into_iter()
            .map(|e| format!("{:?}", e.unwrap()))
            .collect();
        assert_eq!(text.len(), 2, "retry, then dropped: {text:?}");
        assert!(text[1].contains("dropped"), "{text:?}");
        assert_eq!(hub.open_streams(), 0, "its place is given back");
        // The replay buffer stays bounded whatever was published.
        assert_eq!(hub.channels.lock()[&1].replay.len(), REPLAY_EVENTS);
    }

    #[test]
    fn the_neurons_digest_ignores_the_block() {
        let a = br#"{"block":{"number":1,"hash":"0x01"},"neurons":{"x":1}}"#;
        let b = br#"{"block":{"number":2,"hash":"0x02"},"neurons":{"x":1}}"#;
        let c = br#"{"block":{"number":2,"hash":"0x02"},"neurons":{"x":2}}"#;
        assert_eq!(neurons_digest(a), neurons_digest(b));
        assert_ne!(neurons_digest(b), neurons_digest(c));
    }
}
