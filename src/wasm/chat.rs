//! The wasm-bindgen layer for chat templates ([`crate::model::chat`]): a [`Model`]'s
//! `chatTemplate`, and `applyChatTemplate` in the builds with the `chat` feature (`www/pkg-chat`,
//! not the sampling lab's `www/pkg` or the training build).
//!
//! ```js
//! const model = Model.fromFiles({ ...folder });   // with its tokenizer_config.json
//! model.chatTemplate;                             // the Jinja source, or undefined
//! const prompt = model.applyChatTemplate([{ role: 'user', content: 'Hello!' }],
//!                                        { addGenerationPrompt: true });
//! const gen = model.generate(prompt, { temperature: 0 });
//! ```

use wasm_bindgen::prelude::*;

use crate::wasm::model::Model;

#[wasm_bindgen]
impl Model {
    /// The chat template of the model's `tokenizer_config.json` (Jinja source), or undefined
    /// when it has none.
    #[wasm_bindgen(getter, js_name = chatTemplate)]
    pub fn chat_template(&self) -> Option<String> {
        self.inner.chat_template().map(|t| t.source().to_string())
    }
}

#[cfg(feature = "chat")]
pub use render::ChatOptions;

/// `applyChatTemplate`: only where minijinja is built in.
#[cfg(feature = "chat")]
mod render {
    use serde::Deserialize;
    use tsify::Tsify;
    use wasm_bindgen::prelude::*;

    use crate::error::{Code, Error};
    use crate::limits::MAX_CHAT_VALUES;
    use crate::model::chat::{FIELD, GGUF_KEY, JINJA, TOKENIZER_CONFIG};
    use crate::wasm::convert::{describe, js_err};
    use crate::wasm::js_value::{self, is_array};
    use crate::wasm::model::Model;

    // A message as the published templates read it; other fields (tool_calls, reasoning_content,
    // …) pass through to the template as they are.
    #[wasm_bindgen(typescript_custom_section)]
    const MESSAGE_TYPE: &str = r#"
/** One turn of a conversation: its role ("system", "user", "assistant", "tool") and content. */
export interface ChatMessage { role: string; content?: unknown; [field: string]: unknown }
"#;

    /// `Model.applyChatTemplate`'s options.
    #[derive(Deserialize, Tsify, Default)]
    #[serde(rename_all = "camelCase", deny_unknown_fields)]
    pub struct ChatOptions {
        /// End with what opens the assistant's reply (transformers' `add_generation_prompt`).
        /// Default true: the text is then a prompt to generate the reply from.
        #[tsify(optional)]
        pub add_generation_prompt: Option<bool>,
    }

    #[wasm_bindgen]
    impl Model {
        /// `messages` (an array of objects such as `{ role: "user", content: "Hello!" }`) written
        /// out by the model's chat template, exactly as transformers'
        /// `tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=…)`
        /// writes them. `options.addGenerationPrompt` (default true) ends the text with what opens
        /// the assistant's reply. An error if the model has no chat template, or the template
        /// refuses the conversation (its `raise_exception`), or passes its bounds.
        #[wasm_bindgen(js_name = applyChatTemplate)]
        pub fn apply_chat_template(
            &self,
            #[wasm_bindgen(unchecked_param_type = "ChatMessage[]")] messages: JsValue,
            #[wasm_bindgen(unchecked_optional_param_type = "ChatOptions")] options: JsValue,
        ) -> Result<String, JsError> {
            let o: ChatOptions = crate::wasm::convert::options(&options, "options")?;
            let messages = messages_arg(&messages)?;
            let template = self.inner.chat_template().ok_or_else(|| {
                js_err(
                    Error::new(format!(
                        "this model has no chat template: none was loaded with it (the lab \
                         reads {JINJA}, {TOKENIZER_CONFIG}'s {FIELD}, or a GGUF file's \
                         {GGUF_KEY})"
                    ))
                    .coded(Code::ChatNoTemplate, []),
                )
            })?;
            template
                .apply(&messages, o.add_generation_prompt.unwrap_or(true))
                .map_err(js_err)
        }
    }

    /// A conversation from JS: an array of plain objects, read through a copy (no getter of the
    /// caller's runs while it is read), of at most [`MAX_CHAT_VALUES`] values.
    fn messages_arg(v: &JsValue) -> Result<Vec<serde_json::Value>, JsError> {
        let wanted = "an array of messages like [{ role: \"user\", content: \"Hello\" }]";
        if !is_array(v) {
            return Err(JsError::new(&format!(
                "messages must be {wanted}, got {}",
                describe(v)
            )));
        }
        let mut budget = MAX_CHAT_VALUES;
        let copy = js_value::snapshot(v, &mut budget)
            .map_err(|e| JsError::new(&format!("messages: reading it, {e}")))?;
        match serde_wasm_bindgen::from_value(copy) {
            Ok(serde_json::Value::Array(list)) => Ok(list),
            Ok(_) => Err(JsError::new(&format!("messages must be {wanted}"))),
            Err(e) => Err(JsError::new(&format!(
                "messages must be {wanted}: {}",
                e.to_string().trim_start_matches("Error: ")
            ))),
        }
    }
}
