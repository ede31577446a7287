//! Load-time checks that Go's parser performs and gotmpl's does not: block
//! structure (`{{end}}` without a block, missing `{{end}}`), unknown
//! functions, undefined variables, and `{{break}}` outside `{{range}}`.

use gotmpl::parse::{Expr, ListNode, Node, PipeNode, Pos, SmolStr};

use crate::TemplateError;

/// 1-based line and character column of a byte offset.
pub(crate) fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let end = offset.min(src.len());
    let end = (0..=end)
        .rev()
        .find(|i| src.is_char_boundary(*i))
        .unwrap_or(0);
    let before = &src[..end];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn parse_err(name: &str, src: &str, offset: usize, message: String) -> TemplateError {
    let (line, col) = line_col(src, offset);
    TemplateError::Parse {
        name: name.to_string(),
        line,
        col,
        message,
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Block {
    If,
    Range,
    With,
    Define,
}

/// Scans the action keywords of `src` and checks that blocks nest properly.
/// gotmpl silently stops at a stray `{{end}}` and accepts a missing one, so
/// this runs after a successful gotmpl parse (which has already rejected
/// lexical errors).
pub(crate) fn check_structure(name: &str, src: &str) -> Result<(), TemplateError> {
    let b = src.as_bytes();
    let mut stack: Vec<Block> = Vec::new();
    let mut i = 0;
    while let Some(rel) = src[i..].find("{{") {
        let mut j = i + rel + 2;
        if b.get(j) == Some(&b'-') && b.get(j + 1).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        while b.get(j).is_some_and(u8::is_ascii_whitespace) {
            j += 1;
        }
        if src[j..].starts_with("/*") {
            let end = src[j..].find("*/").map_or(src.len(), |e| j + e + 2);
            i = src[end..].find("}}").map_or(src.len(), |e| end + e + 2);
            continue;
        }
        let kw_start = j;
        while b
            .get(j)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            j += 1;
        }
        let word = &src[kw_start..j];
        // `.`/`$` right after a word makes it a chain, not a keyword.
        let standalone = !matches!(b.get(j), Some(b'.') | Some(b'$'));
        let kw = if standalone { word } else { "" };
        match kw {
            "if" => stack.push(Block::If),
            "range" => stack.push(Block::Range),
            "with" => stack.push(Block::With),
            "define" | "block" => stack.push(Block::Define),
            "else" if !matches!(stack.last(), Some(Block::If | Block::Range | Block::With)) => {
                return Err(parse_err(name, src, kw_start, "unexpected {{else}}".into()));
            }
            "end" if stack.pop().is_none() => {
                return Err(parse_err(name, src, kw_start, "unexpected {{end}}".into()));
            }
            "break" | "continue" => {
                let in_range = stack
                    .iter()
                    .rev()
                    .take_while(|b| **b != Block::Define)
                    .any(|b| *b == Block::Range);
                if !in_range {
                    return Err(parse_err(
                        name,
                        src,
                        kw_start,
                        format!("{{{{{kw}}}}} outside {{{{range}}}}"),
                    ));
                }
            }
            _ => {}
        }
        // Skip to the closing delimiter, stepping over quoted text.
        let mut k = j;
        while k < b.len() {
            match b[k] {
                b'"' | b'\'' => {
                    let q = b[k];
                    k += 1;
                    while k < b.len() && b[k] != q {
                        if b[k] == b'\\' {
                            k += 1;
                        }
                        k += 1;
                    }
                    k += 1;
                }
                b'`' => {
                    k += 1;
                    while k < b.len() && b[k] != b'`' {
                        k += 1;
                    }
                    k += 1;
                }
                b'}' if b.get(k + 1) == Some(&b'}') => break,
                _ => k += 1,
            }
        }
        i = (k + 2).min(src.len());
    }
    if !stack.is_empty() {
        return Err(parse_err(name, src, src.len(), "unexpected EOF".into()));
    }
    Ok(())
}

/// Walks a parsed tree checking function names and variable scopes like Go's
/// parser does.
pub(crate) struct Validator<'a> {
    pub(crate) name: &'a str,
    pub(crate) src: &'a str,
    pub(crate) is_func: &'a dyn Fn(&str) -> bool,
    scopes: Vec<Vec<SmolStr>>,
}

impl<'a> Validator<'a> {
    pub(crate) fn new(name: &'a str, src: &'a str, is_func: &'a dyn Fn(&str) -> bool) -> Self {
        Validator {
            name,
            src,
            is_func,
            scopes: Vec::new(),
        }
    }

    /// Checks one tree (the root or a `{{define}}` body) with the given
    /// variables pre-declared (`$` is always declared).
    pub(crate) fn check_tree(
        &mut self,
        tree: &ListNode,
        predeclared: &[&str],
    ) -> Result<(), TemplateError> {
        let mut top: Vec<SmolStr> = vec![SmolStr::new("$")];
        top.extend(predeclared.iter().map(SmolStr::new));
        self.scopes = vec![top];
        self.list(tree)
    }

    fn err(&self, pos: Pos, message: String) -> TemplateError {
        parse_err(self.name, self.src, pos.offset, message)
    }

    fn declared(&self, v: &str) -> bool {
        self.scopes.iter().any(|s| s.iter().any(|d| d == v))
    }

    fn declare(&mut self, v: &SmolStr) {
        if let Some(s) = self.scopes.last_mut() {
            s.push(v.clone());
        }
    }

    fn list(&mut self, l: &ListNode) -> Result<(), TemplateError> {
        for n in &l.nodes {
            self.node(n)?;
        }
        Ok(())
    }

    fn node(&mut self, n: &Node) -> Result<(), TemplateError> {
        match n {
            Node::Action(a) => self.decl_pipe(&a.pipe),
            Node::If(b) | Node::With(b) | Node::Range(b) => {
                self.scopes.push(Vec::new());
                let r = self.decl_pipe(&b.pipe).and_then(|()| {
                    self.list(&b.body)?;
                    match &b.else_body {
                        Some(e) => self.list(e),
                        None => Ok(()),
                    }
                });
                self.scopes.pop();
                r
            }
            Node::Template(t) => match &t.pipe {
                Some(p) => self.pipe(p),
                None => Ok(()),
            },
            Node::List(l) => self.list(l),
            Node::Text(_) | Node::Define(_) | Node::Break(_) | Node::Continue(_) => Ok(()),
        }
    }

    /// A pipeline that may declare or assign variables.
    fn decl_pipe(&mut self, p: &PipeNode) -> Result<(), TemplateError> {
        self.pipe(p)?;
        for v in &p.decl {
            if p.is_assign {
                if !self.declared(v) {
                    return Err(self.err(p.pos, format!("undefined variable {:?}", v.as_str())));
                }
            } else {
                self.declare(v);
            }
        }
        Ok(())
    }

    fn pipe(&mut self, p: &PipeNode) -> Result<(), TemplateError> {
        for c in &p.commands {
            for a in &c.args {
                self.expr(a)?;
            }
        }
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> Result<(), TemplateError> {
        match e {
            Expr::Identifier(pos, name) => {
                if !(self.is_func)(name) {
                    return Err(self.err(*pos, format!("function {:?} not defined", name.as_str())));
                }
                Ok(())
            }
            Expr::Variable(pos, name, _) => {
                if !self.declared(name) {
                    return Err(self.err(*pos, format!("undefined variable {:?}", name.as_str())));
                }
                Ok(())
            }
            Expr::Pipe(_, p) => {
                // Declarations inside parentheses are scoped like Go's.
                self.decl_pipe(p)
            }
            Expr::Chain(_, inner, _) => self.expr(inner),
            _ => Ok(()),
        }
    }
}
