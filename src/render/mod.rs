//! TEMPORARY stub of the renderer API; replaced by the real engine.
#![allow(missing_docs, unused)]
pub use serde_json::Value;
#[derive(Debug, Clone)]
pub struct Template {
    src: String,
}
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}, column {column}: {message}")]
pub struct CompileError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}
impl Template {
    pub fn compile(source: &str) -> Result<Template, CompileError> {
        Ok(Template { src: source.into() })
    }
    pub fn references(&self) -> References {
        References::default()
    }
    pub fn literal_len(&self) -> usize {
        self.src.len()
    }
}
#[derive(Debug, Clone, Default, PartialEq)]
pub struct References {
    pub root_names: Vec<NameRef>,
    pub partials: Vec<PartialRef>,
}
#[derive(Debug, Clone, PartialEq)]
pub struct NameRef {
    pub name: String,
    pub line: usize,
    pub column: usize,
}
#[derive(Debug, Clone, PartialEq)]
pub struct PartialRef {
    pub name: String,
    pub in_section: bool,
    pub line: usize,
    pub column: usize,
}
pub trait Partials {
    fn get(&self, name: &str) -> Option<&Template>;
}
pub struct NoPartials;
impl Partials for NoPartials {
    fn get(&self, _: &str) -> Option<&Template> {
        None
    }
}
impl Partials for std::collections::HashMap<String, Template> {
    fn get(&self, n: &str) -> Option<&Template> {
        std::collections::HashMap::get(self, n)
    }
}
impl Partials for std::collections::BTreeMap<String, Template> {
    fn get(&self, n: &str) -> Option<&Template> {
        std::collections::BTreeMap::get(self, n)
    }
}
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Escape {
    None,
    Html,
}
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_output: usize,
    pub max_depth: usize,
    pub max_iterations: usize,
}
impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_output: 1 << 20,
            max_depth: 32,
            max_iterations: 100_000,
        }
    }
}
#[derive(Debug, Clone, Copy, Default)]
pub struct RenderOptions {
    pub escape: Escape,
    pub limits: Limits,
}
impl Default for Escape {
    fn default() -> Self {
        Escape::None
    }
}
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    #[error("rendered output exceeds {limit} bytes")]
    OutputTooLarge { limit: usize },
    #[error("nesting deeper than {limit} levels (sections, partials and parents)")]
    TooDeep { limit: usize },
    #[error("more than {limit} section iterations")]
    TooManyIterations { limit: usize },
}
pub fn render_to(
    tpl: &Template,
    scopes: &[&Value],
    partials: &dyn Partials,
    opts: &RenderOptions,
    out: &mut String,
) -> Result<(), RenderError> {
    out.push_str(&tpl.src);
    Ok(())
}
pub fn render(
    tpl: &Template,
    scopes: &[&Value],
    partials: &dyn Partials,
    opts: &RenderOptions,
) -> Result<String, RenderError> {
    let mut s = String::new();
    render_to(tpl, scopes, partials, opts, &mut s)?;
    Ok(s)
}
pub fn write_number(n: &serde_json::Number, out: &mut String) {
    out.push_str(&n.to_string())
}
pub fn write_f64(x: f64, out: &mut String) {
    out.push_str(&x.to_string())
}
