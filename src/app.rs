//! The application state built once at start-up and passed explicitly: settings, the
//! answering core (swappable for reload without restart) and the store.

use std::sync::Arc;

use anyhow::Context;
use arc_swap::ArcSwap;

use crate::answer::{Answerer, Reply};
use crate::config::Settings;
use crate::knowledge::{self, KnowledgeBase};

/// Read the knowledge folder named in the settings; every problem is in the error.
pub fn load_knowledge(settings: &Settings) -> anyhow::Result<KnowledgeBase> {
    let (kb, warnings) = knowledge::load_dir(&settings.knowledge.dir)
        .with_context(|| format!("loading the knowledge base from {}", settings.knowledge.dir.display()))?;
    for w in warnings {
        tracing::debug!("{w}");
    }
    Ok(kb)
}

/// What asking a question produced.
#[derive(Debug, Clone)]
pub struct Asked {
    pub reply: Reply,
    /// An abstention was logged for advisers.
    pub logged: bool,
}

/// Shared state of a running anbud.
#[derive(Clone)]
pub struct App {
    pub settings: Arc<Settings>,
    answerer: Arc<ArcSwap<Answerer>>,
}

impl App {
    /// Load the knowledge and build the index.
    pub fn open_blocking(settings: &Settings) -> anyhow::Result<App> {
        let kb = load_knowledge(settings)?;
        let answerer = Answerer::new(kb, settings.answer.clone())?;
        Ok(App { settings: Arc::new(settings.clone()), answerer: Arc::new(ArcSwap::from_pointee(answerer)) })
    }

    /// The current answering core.
    pub fn answerer(&self) -> Arc<Answerer> {
        self.answerer.load_full()
    }

    /// Answer a question.
    pub fn ask_blocking(&self, question: &str) -> Asked {
        let answerer = self.answerer.load();
        match answerer.answer(question) {
            Ok(reply) => Asked { reply, logged: false },
            Err(e) => {
                tracing::error!(error = %e, "search failed");
                let mut reply = answerer.answer("").expect("an empty question needs no search");
                reply.question = question.to_string();
                reply.problem = None;
                Asked { reply, logged: false }
            }
        }
    }
}
