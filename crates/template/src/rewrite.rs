//! AST rewrite that routes Go-specific behaviour through our own functions.
//!
//! gotmpl evaluates field access on its own `Value` maps and prints with
//! Rust formatting, while Go calls methods (`.Alerts.Firing`,
//! `.CommonLabels.SortedPairs`, `.StartsAt.Format "..."`), returns zero values
//! for missing map keys (`missingkey=zero`) and prints floats as `%v`. The
//! rewrite, applied after parsing and validation:
//!
//! * turns every field chain (`.A.B`, `$x.A`, `(expr).A`) into
//!   `__wf_field SITE RECV N "A" "B" ARGS...`, so methods, zero values and
//!   method arguments (including a piped value) are handled in Rust;
//! * turns calls of our own functions `f a b` into `__wf_fn SITE "f" a b`, so
//!   failures can be reported with Go's `NAME:LINE:COL ... at <f a b>` text;
//! * appends `| __wf_str` to printing actions so values print like Go.
//!
//! SITE indexes a table of source positions kept beside the templates; it is
//! only consulted to build error messages.

use std::sync::Arc;

use gotmpl::parse::{CommandNode, Expr, ListNode, Node, Number, PipeNode, Pos, SmolStr};
use watchfire_model::go_quote;

/// Function that evaluates field chains and methods.
pub(crate) const FIELD_FN: &str = "__wf_field";
/// Dispatcher for our own functions.
pub(crate) const CALL_FN: &str = "__wf_fn";
/// Final formatting of printed values.
pub(crate) const STR_FN: &str = "__wf_str";

/// Where a rewritten node came from, for error messages.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    /// Name the source was parsed under (file or template name).
    pub(crate) parse_name: Arc<str>,
    /// The (sub-)template the node belongs to.
    pub(crate) executing: Arc<str>,
    /// 1-based line.
    pub(crate) line: usize,
    /// Go-style 0-based byte column.
    pub(crate) col: usize,
    /// The node rendered as template source.
    pub(crate) node: String,
}

/// Rewrites the trees of one source text.
pub(crate) struct Rewriter<'a> {
    pub(crate) src: &'a str,
    pub(crate) parse_name: Arc<str>,
    pub(crate) executing: Arc<str>,
    /// Added to columns on line 1 (Prometheus prepends its variable preamble
    /// to rule templates on the same line).
    pub(crate) line1_shift: usize,
    /// Offset of this source's sites in the combined site table.
    pub(crate) site_base: usize,
    pub(crate) sites: Vec<Site>,
    pub(crate) is_own_fn: &'a dyn Fn(&str) -> bool,
}

impl Rewriter<'_> {
    fn site(&mut self, pos: Pos, node: String) -> Expr {
        let end = pos.offset.min(self.src.len());
        let line_start = self.src[..end].rfind('\n').map_or(0, |i| i + 1);
        let line = self.src[..end].matches('\n').count() + 1;
        let mut col = end - line_start;
        if line == 1 {
            col += self.line1_shift;
        }
        self.sites.push(Site {
            parse_name: self.parse_name.clone(),
            executing: self.executing.clone(),
            line,
            col,
            node,
        });
        let id = (self.site_base + self.sites.len() - 1) as i64;
        Expr::Number(pos, Number::Int(id))
    }

    /// Rewrites a whole tree in place.
    pub(crate) fn list(&mut self, l: &mut ListNode) {
        for n in &mut l.nodes {
            self.node(n);
        }
    }

    fn node(&mut self, n: &mut Node) {
        match n {
            Node::Action(a) => {
                self.pipe(&mut a.pipe);
                let escaped = a.pipe.commands.last().is_some_and(|c| {
                    matches!(c.args.first(), Some(Expr::Identifier(_, f)) if matches!(f.as_str(), "html" | "js" | "urlquery"))
                });
                if a.pipe.decl.is_empty() && !escaped {
                    a.pipe.commands.push(CommandNode {
                        pos: a.pipe.pos,
                        args: vec![Expr::Identifier(a.pipe.pos, SmolStr::new_static(STR_FN))],
                    });
                }
            }
            Node::If(b) | Node::With(b) | Node::Range(b) => {
                self.pipe(&mut b.pipe);
                self.list(&mut b.body);
                if let Some(e) = &mut b.else_body {
                    self.list(e);
                }
            }
            Node::Template(t) => {
                if let Some(p) = &mut t.pipe {
                    self.pipe(p);
                }
            }
            Node::List(l) => self.list(l),
            Node::Define(d) => self.list(&mut d.body),
            Node::Text(_) | Node::Break(_) | Node::Continue(_) => {}
        }
    }

    fn pipe(&mut self, p: &mut PipeNode) {
        for c in &mut p.commands {
            self.command(c);
        }
    }

    fn command(&mut self, c: &mut CommandNode) {
        let Some(first) = c.args.first().cloned() else {
            return;
        };
        // Render before rewriting so error messages show the user's text.
        let original = c.args.iter().map(render_expr).collect::<Vec<_>>().join(" ");
        let rest: Vec<Expr> = c.args.drain(1..).collect::<Vec<_>>();
        let rest: Vec<Expr> = rest.into_iter().map(|a| self.arg(a)).collect();
        match first {
            Expr::Identifier(pos, ref name) if (self.is_own_fn)(name) => {
                let site = self.site(c.pos, original);
                c.args = vec![
                    Expr::Identifier(pos, SmolStr::new_static(CALL_FN)),
                    site,
                    Expr::String(pos, Arc::from(name.as_str())),
                ];
                c.args.extend(rest);
            }
            Expr::Field(..) | Expr::Variable(..) | Expr::Chain(..) if has_fields(&first) => {
                let mut args = self.field_call(&first);
                args.extend(rest);
                c.args = args;
            }
            other => {
                let mut args = vec![self.arg(other)];
                args.extend(rest);
                c.args = args;
            }
        }
    }

    /// `[__wf_field, SITE, RECV, N, names...]` for a field-chain expression.
    fn field_call(&mut self, e: &Expr) -> Vec<Expr> {
        let (pos, recv, fields): (Pos, Expr, &[SmolStr]) = match e {
            Expr::Field(pos, f) => (*pos, Expr::Dot(*pos), f),
            Expr::Variable(pos, name, f) => {
                (*pos, Expr::Variable(*pos, name.clone(), Vec::new()), f)
            }
            Expr::Chain(pos, inner, f) => {
                let inner = match inner.as_ref() {
                    // `f.X`: call f, then walk fields.
                    Expr::Identifier(p, _) => Expr::Pipe(
                        *p,
                        PipeNode {
                            pos: *p,
                            decl: Vec::new(),
                            commands: vec![CommandNode {
                                pos: *p,
                                args: vec![inner.as_ref().clone()],
                            }],
                            is_assign: false,
                        },
                    ),
                    other => other.clone(),
                };
                (*pos, self.arg(inner), f)
            }
            other => return vec![self.arg(other.clone())],
        };
        let site = self.site(pos, render_expr(e));
        let mut args = vec![
            Expr::Identifier(pos, SmolStr::new_static(FIELD_FN)),
            site,
            recv,
            Expr::Number(pos, Number::Int(fields.len() as i64)),
        ];
        args.extend(
            fields
                .iter()
                .map(|f| Expr::String(pos, Arc::from(f.as_str()))),
        );
        args
    }

    /// Rewrites an argument expression.
    fn arg(&mut self, e: Expr) -> Expr {
        match e {
            Expr::Field(..) | Expr::Variable(..) | Expr::Chain(..) if has_fields(&e) => {
                let pos = e.pos();
                let args = self.field_call(&e);
                Expr::Pipe(pos, single_command(pos, args))
            }
            Expr::Identifier(pos, ref name) if (self.is_own_fn)(name) => {
                let site = self.site(pos, name.to_string());
                let args = vec![
                    Expr::Identifier(pos, SmolStr::new_static(CALL_FN)),
                    site,
                    Expr::String(pos, Arc::from(name.as_str())),
                ];
                Expr::Pipe(pos, single_command(pos, args))
            }
            Expr::Pipe(pos, mut p) => {
                self.pipe(&mut p);
                Expr::Pipe(pos, p)
            }
            other => other,
        }
    }
}

fn render_command_parts(name: &str, args: &[String]) -> String {
    let mut s = name.to_string();
    for a in args {
        s.push(' ');
        s.push_str(a);
    }
    s
}

fn single_command(pos: Pos, args: Vec<Expr>) -> PipeNode {
    PipeNode {
        pos,
        decl: Vec::new(),
        commands: vec![CommandNode { pos, args }],
        is_assign: false,
    }
}

fn has_fields(e: &Expr) -> bool {
    match e {
        Expr::Field(_, f) | Expr::Chain(_, _, f) => !f.is_empty(),
        Expr::Variable(_, _, f) => !f.is_empty(),
        _ => false,
    }
}

/// Renders an expression roughly as Go's `Node.String()` does, for error
/// messages. Rewritten sub-expressions are shown in their original form.
pub(crate) fn render_expr(e: &Expr) -> String {
    match e {
        Expr::Dot(_) => ".".into(),
        Expr::Field(_, f) => f.iter().map(|x| format!(".{x}")).collect(),
        Expr::Variable(_, n, f) => {
            let mut s = n.to_string();
            for x in f {
                s.push('.');
                s.push_str(x);
            }
            s
        }
        Expr::Identifier(_, n) => n.to_string(),
        Expr::String(_, s) => go_quote(s),
        Expr::Number(_, Number::Int(i)) => i.to_string(),
        Expr::Number(_, Number::Uint(u)) => u.to_string(),
        Expr::Number(_, Number::Float(f)) => crate::gofmt::go_float(*f),
        Expr::Bool(_, b) => b.to_string(),
        Expr::Nil(_) => "nil".into(),
        Expr::Pipe(_, p) => format!("({})", render_pipe(p)),
        Expr::Chain(_, inner, f) => {
            let mut s = render_expr(inner);
            for x in f {
                s.push('.');
                s.push_str(x);
            }
            s
        }
    }
}

fn render_pipe(p: &PipeNode) -> String {
    let cmds: Vec<String> = p.commands.iter().map(render_command).collect();
    let mut s = String::new();
    if !p.decl.is_empty() {
        let d: Vec<&str> = p.decl.iter().map(SmolStr::as_str).collect();
        s.push_str(&d.join(", "));
        s.push_str(if p.is_assign { " = " } else { " := " });
    }
    s.push_str(&cmds.join(" | "));
    s
}

/// Renders a command, undoing our own rewrites so messages show user text.
fn render_command(c: &CommandNode) -> String {
    match c.args.first() {
        Some(Expr::Identifier(_, f)) if f == CALL_FN => {
            let name = match c.args.get(2) {
                Some(Expr::String(_, s)) => s.to_string(),
                _ => String::new(),
            };
            let rest: Vec<String> = c.args.iter().skip(3).map(render_expr).collect();
            render_command_parts(&name, &rest)
        }
        Some(Expr::Identifier(_, f)) if f == FIELD_FN => {
            let recv = c.args.get(2).map(render_expr).unwrap_or_default();
            let n = match c.args.get(3) {
                Some(Expr::Number(_, Number::Int(n))) => *n as usize,
                _ => 0,
            };
            let mut s = if recv == "." { String::new() } else { recv };
            for f in c.args.iter().skip(4).take(n) {
                if let Expr::String(_, name) = f {
                    s.push('.');
                    s.push_str(name);
                }
            }
            for a in c.args.iter().skip(4 + n) {
                s.push(' ');
                s.push_str(&render_expr(a));
            }
            s
        }
        _ => c.args.iter().map(render_expr).collect::<Vec<_>>().join(" "),
    }
}
