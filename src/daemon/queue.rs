//! Work queue: strictly in order for one pull request, different pull requests at once (up to
//! a number of workers), bounded in total. A slot is reserved before a delivery is journaled, so
//! a full queue refuses (503) before anything is written: nothing is half-accepted.

use std::collections::{HashMap, HashSet, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use tokio::sync::{Semaphore, watch};

/// Which ordered lane a job runs in.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Lane {
    /// One pull request.
    Pull(u64),
    /// Everything else, one at a time.
    Other,
}

type Work = Box<dyn FnOnce() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

struct State {
    lanes: HashMap<Lane, VecDeque<Work>>,
    running: HashSet<Lane>,
    /// Reserved + queued + running.
    total: usize,
}

/// The bounded, per-lane ordered queue.
pub struct Queue {
    state: Mutex<State>,
    capacity: usize,
    workers: Arc<Semaphore>,
    depth: watch::Sender<usize>,
}

/// A reserved place in the queue; dropped unused, it is given back.
pub struct Slot {
    queue: Arc<Queue>,
    used: bool,
}

impl Queue {
    /// A queue holding at most `capacity` jobs, running at most `workers` lanes at once.
    pub fn new(capacity: usize, workers: usize) -> Arc<Queue> {
        Arc::new(Queue {
            state: Mutex::new(State {
                lanes: HashMap::new(),
                running: HashSet::new(),
                total: 0,
            }),
            capacity,
            workers: Arc::new(Semaphore::new(workers)),
            depth: watch::channel(0).0,
        })
    }

    /// Reserves a place, or `None` when the queue is full.
    pub fn reserve(self: &Arc<Self>) -> Option<Slot> {
        let mut s = self.state.lock().expect("lock");
        if s.total >= self.capacity {
            return None;
        }
        s.total += 1;
        self.depth.send_replace(s.total);
        Some(Slot {
            queue: self.clone(),
            used: false,
        })
    }

    /// Reserves a place even when the queue is full (work recovered from the journal, which
    /// was accepted before and must not be refused now).
    pub fn reserve_anyway(self: &Arc<Self>) -> Slot {
        let mut s = self.state.lock().expect("lock");
        s.total += 1;
        self.depth.send_replace(s.total);
        Slot {
            queue: self.clone(),
            used: false,
        }
    }

    /// Jobs reserved, queued or running.
    pub fn depth(&self) -> usize {
        *self.depth.borrow()
    }

    /// Completes when the queue is empty.
    pub async fn idle(&self) {
        let mut rx = self.depth.subscribe();
        let _ = rx.wait_for(|d| *d == 0).await;
    }

    fn release(&self) {
        let mut s = self.state.lock().expect("lock");
        s.total -= 1;
        self.depth.send_replace(s.total);
    }

    fn run_lane(self: Arc<Self>, lane: Lane) {
        tokio::spawn(async move {
            loop {
                let work = {
                    let mut s = self.state.lock().expect("lock");
                    match s.lanes.get_mut(&lane).and_then(VecDeque::pop_front) {
                        Some(w) => w,
                        None => {
                            s.lanes.remove(&lane);
                            s.running.remove(&lane);
                            return;
                        }
                    }
                };
                let permit = self.workers.clone().acquire_owned().await;
                // A panicking job must not stop its lane nor leak its slot.
                let _ = tokio::spawn(work()).await;
                drop(permit);
                self.release();
            }
        });
    }
}

impl Slot {
    /// Queues a job in `lane`: it runs after every job queued before it in that lane.
    pub fn push<F, Fut>(mut self, lane: Lane, job: F)
    where
        F: FnOnce() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.used = true;
        let start = {
            let mut s = self.queue.state.lock().expect("lock");
            s.lanes
                .entry(lane.clone())
                .or_default()
                .push_back(Box::new(move || Box::pin(job())));
            s.running.insert(lane.clone())
        };
        if start {
            self.queue.clone().run_lane(lane);
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        if !self.used {
            self.queue.release();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn one_lane_in_order_lanes_at_once_and_bounded() {
        let q = Queue::new(5, 2);
        let log = Arc::new(Mutex::new(Vec::new()));
        for i in 0..3u64 {
            let log = log.clone();
            q.reserve()
                .unwrap()
                .push(Lane::Pull(1), move || async move {
                    // Later jobs are quicker: only the lane's order keeps them in sequence.
                    tokio::time::sleep(Duration::from_millis(30 - i * 10)).await;
                    log.lock().unwrap().push(format!("1:{i}"));
                });
        }
        let l2 = log.clone();
        q.reserve()
            .unwrap()
            .push(Lane::Pull(2), move || async move {
                l2.lock().unwrap().push("2:0".into());
            });
        let kept = q.reserve().unwrap();
        assert!(q.reserve().is_none(), "the sixth job is refused");
        drop(kept);
        assert_eq!(q.depth(), 4);
        q.idle().await;
        let log = log.lock().unwrap().clone();
        assert_eq!(log[0], "2:0", "pull 2 did not wait for pull 1: {log:?}");
        assert_eq!(&log[1..], ["1:0", "1:1", "1:2"]);
        assert!(q.reserve().is_some());
    }
}
