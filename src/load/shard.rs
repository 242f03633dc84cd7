//! Sharding: runner I of N simulates only its slice of the population, while its oracle still
//! watches every owner, so a leak of another shard's beneficiary is still caught.

use std::fmt;
use std::ops::Range;
use std::str::FromStr;

/// `I/N`, 1-based: this runner is shard I of N.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Shard {
    index: usize,
    count: usize,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ShardError {
    #[error(
        "--shard {given:?} is not I/N: write e.g. --shard 2/3 for the second of three runners"
    )]
    Syntax { given: String },
    #[error("--shard {index}/{count}: I runs from 1 to N")]
    Range { index: usize, count: usize },
    #[error("--shard {index}/{count} gets no beneficiary of a population of {population}: use fewer shards or a larger population")]
    Empty {
        index: usize,
        count: usize,
        population: usize,
    },
}

impl Shard {
    pub fn new(index: usize, count: usize) -> Result<Self, ShardError> {
        if count == 0 || index == 0 || index > count {
            return Err(ShardError::Range { index, count });
        }
        Ok(Shard { index, count })
    }

    /// The whole population, as one shard.
    pub fn whole() -> Self {
        Shard { index: 1, count: 1 }
    }

    pub fn index(&self) -> usize {
        self.index
    }

    pub fn count(&self) -> usize {
        self.count
    }

    /// The owners this shard simulates: contiguous, disjoint from the other shards', covering
    /// the population together.
    pub fn owners(&self, population: usize) -> Result<Range<usize>, ShardError> {
        let start = population * (self.index - 1) / self.count;
        let end = population * self.index / self.count;
        if start == end {
            return Err(ShardError::Empty {
                index: self.index,
                count: self.count,
                population,
            });
        }
        Ok(start..end)
    }
}

impl FromStr for Shard {
    type Err = ShardError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let syntax = || ShardError::Syntax {
            given: text.to_owned(),
        };
        let (index, count) = text.split_once('/').ok_or_else(syntax)?;
        let index = index.trim().parse().map_err(|_| syntax())?;
        let count = count.trim().parse().map_err(|_| syntax())?;
        Shard::new(index, count)
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_and_refuses() {
        assert_eq!("2/3".parse::<Shard>(), Shard::new(2, 3));
        assert!(matches!(
            "0/3".parse::<Shard>(),
            Err(ShardError::Range { .. })
        ));
        assert!(matches!(
            "4/3".parse::<Shard>(),
            Err(ShardError::Range { .. })
        ));
        assert!(matches!(
            "2-3".parse::<Shard>(),
            Err(ShardError::Syntax { .. })
        ));
        assert!(matches!(
            Shard::new(1, 3).unwrap().owners(2),
            Err(ShardError::Empty { .. })
        ));
    }

    proptest! {
        #[test]
        fn shards_are_disjoint_and_cover_the_population(population in 1usize..10_000, count in 1usize..16) {
            prop_assume!(count <= population);
            let mut next = 0;
            for index in 1..=count {
                let owners = Shard::new(index, count).unwrap().owners(population).unwrap();
                prop_assert_eq!(owners.start, next);
                next = owners.end;
            }
            prop_assert_eq!(next, population);
        }
    }
}
