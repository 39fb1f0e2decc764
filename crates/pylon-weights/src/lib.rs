//! The weights write path's domain, independent of HTTP and of the chain connection:
//!
//! - [`echo`]: bounds on what error messages repeat of a request (echoed values, listings);
//! - [`body`]: validate `PUT …/weights` bodies as the reference client sends them;
//! - [`mapping`]: hotkeys → uids at the latest block, reporting unregistered hotkeys;
//! - [`convert`]: float weights → the chain's u16 weights, as the reference does it;
//! - [`epoch`]: the chain's epoch schedule (stateful since spec 423, the fixed grid before), which
//!   bounds a job's life and says where a commit is revealed;
//! - [`commit`]: CRv4 timelocked commits and their drand reveal round;
//! - [`store`]: durable jobs, one live job per (identity, netuid, mechanism);
//! - [`runner`]: the retry loop that drives a job to inclusion through a [`runner::WeightsSubmitter`];
//! - [`prepare`]: request → the weights a job carries; [`jobs`]: submit and resume, in the background;
//! - [`dispatch`]: which decoded chain refusals are worth another attempt.

pub mod body;
pub mod commit;
pub mod convert;
pub mod dispatch;
pub mod echo;
pub mod epoch;
pub mod job;
pub mod jobs;
pub mod mapping;
pub mod prepare;
pub mod runner;
pub mod store;

#[cfg(test)]
mod testing;
