//! Submissions: build a call ([`weights`], [`publish`]), sign it, submit it and watch it to
//! inclusion ([`submit`]), with the transaction pool's refusals decoded by name
//! ([`pool_refusal`]).

pub mod pool_refusal;
pub mod publish;
pub mod submit;
pub mod weights;
