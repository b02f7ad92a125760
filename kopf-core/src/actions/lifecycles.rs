//! Lifecycles: which handler of a cause runs next within one handling cycle.

use crate::settings::Lifecycle;
use crate::storage::progress::HandlerState;
use jiff::Timestamp;

/// The next handler to run in this cycle, none twice: kopf's `asap` order (the fewest
/// retries first) or `all_at_once` order (declaration order).
pub fn next_handler(
    lifecycle: Lifecycle,
    states: &[(String, HandlerState)],
    ran: &[bool],
    now: Timestamp,
) -> Option<usize> {
    let runnable = |index: usize| {
        let state = &states[index].1;
        !ran[index] && !state.is_finished() && !state.is_sleeping(now)
    };
    match lifecycle {
        Lifecycle::Asap => (0..states.len())
            .filter(|index| runnable(*index))
            .min_by_key(|index| (states[*index].1.retries, *index)),
        Lifecycle::AllAtOnce => (0..states.len()).find(|index| runnable(*index)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asap_takes_the_fewest_retries_first_and_never_one_handler_twice() {
        let now = Timestamp::now();
        let mut retried = HandlerState::new("create", now);
        retried.retries = 2;
        let states = vec![
            ("a".to_string(), retried),
            ("b".to_string(), HandlerState::new("create", now)),
            ("c".to_string(), HandlerState::new("create", now)),
        ];
        let mut ran = vec![false; 3];
        assert_eq!(next_handler(Lifecycle::Asap, &states, &ran, now), Some(1));
        assert_eq!(
            next_handler(Lifecycle::AllAtOnce, &states, &ran, now),
            Some(0)
        );
        ran[1] = true;
        assert_eq!(next_handler(Lifecycle::Asap, &states, &ran, now), Some(2));
        ran[2] = true;
        ran[0] = true;
        assert_eq!(next_handler(Lifecycle::Asap, &states, &ran, now), None);
    }
}
