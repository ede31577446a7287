//! Function calls.

mod histogram;
mod info;
mod labels;
pub(crate) mod range;

use super::{Elem, Evaluator, Grid, Val, exec};
use crate::QueryError;
use crate::ast::{Expr, Positions};

/// Days since the epoch to (year, month 1-12, day 1-31), proleptic Gregorian.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A date function of Unix seconds `v`.
fn date_part(name: &str, v: f64) -> f64 {
    if !v.is_finite() {
        return f64::NAN;
    }
    let secs = v.floor() as i64;
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    match name {
        "minute" => ((sod / 60) % 60) as f64,
        "hour" => (sod / 3600) as f64,
        "day_of_month" => f64::from(d),
        "day_of_week" => (days + 4).rem_euclid(7) as f64,
        "day_of_year" => {
            let mut n = d;
            for mm in 1..m {
                n += days_in_month(y, mm);
            }
            f64::from(n)
        }
        "days_in_month" => f64::from(days_in_month(y, m)),
        "month" => f64::from(m),
        "year" => y as f64,
        _ => f64::NAN,
    }
}

fn math_fn(name: &str) -> Option<fn(f64) -> f64> {
    Some(match name {
        "abs" => f64::abs,
        "ceil" => f64::ceil,
        "floor" => f64::floor,
        "exp" => f64::exp,
        "sqrt" => f64::sqrt,
        "ln" => f64::ln,
        "log2" => f64::log2,
        "log10" => f64::log10,
        "sin" => f64::sin,
        "cos" => f64::cos,
        "tan" => f64::tan,
        "asin" => f64::asin,
        "acos" => f64::acos,
        "atan" => f64::atan,
        "sinh" => f64::sinh,
        "cosh" => f64::cosh,
        "tanh" => f64::tanh,
        "asinh" => f64::asinh,
        "acosh" => f64::acosh,
        "atanh" => f64::atanh,
        "deg" => |v| v * 180.0 / std::f64::consts::PI,
        "rad" => |v| v * std::f64::consts::PI / 180.0,
        "sgn" => |v: f64| {
            if v > 0.0 {
                1.0
            } else if v < 0.0 {
                -1.0
            } else {
                v
            }
        },
        _ => return None,
    })
}

fn scalar_at(v: &Val, i: usize) -> f64 {
    match v {
        Val::Scalar(s) => s.get(i).copied().unwrap_or(f64::NAN),
        _ => f64::NAN,
    }
}

/// Maps each element of each step, dropping `__name__`.
fn map_vector(v: Val, mut f: impl FnMut(usize, f64) -> Option<f64>) -> Result<Val, QueryError> {
    match v {
        Val::Vector(steps) => Ok(Val::Vector(
            steps
                .into_iter()
                .enumerate()
                .map(|(i, step)| {
                    step.into_iter()
                        .filter_map(|e| {
                            f(i, e.v).map(|v| Elem {
                                labels: e.labels,
                                v,
                                drop: true,
                            })
                        })
                        .collect()
                })
                .collect(),
        )),
        _ => Err(exec("expected an instant vector argument")),
    }
}

impl Evaluator<'_> {
    pub(crate) fn eval_call(
        &mut self,
        name: &str,
        args: &[Expr],
        pos: &Positions,
        grid: Grid,
    ) -> Result<Val, QueryError> {
        if let Some(v) = self.eval_range_call(name, args, pos, grid)? {
            return Ok(v);
        }
        if let Some(v) = self.eval_label_call(name, args, pos, grid)? {
            return Ok(v);
        }
        let n = grid.len();
        let arg = |i: usize| {
            args.get(i)
                .ok_or_else(|| exec(format!("missing argument {} to {name}", i + 1)))
        };
        if let Some(f) = math_fn(name) {
            let v = self.eval(arg(0)?, grid)?;
            return map_vector(v, |_, x| Some(f(x)));
        }
        match name {
            "time" => Ok(Val::Scalar(
                grid.times().iter().map(|t| *t as f64 / 1000.0).collect(),
            )),
            "pi" => Ok(Val::Scalar(vec![std::f64::consts::PI; n])),
            // The query's boundaries, whatever step (or subquery) evaluates them.
            "start" => Ok(Val::Scalar(vec![self.query_start as f64 / 1000.0; n])),
            "end" => Ok(Val::Scalar(vec![self.query_end as f64 / 1000.0; n])),
            "vector" => match self.eval(arg(0)?, grid)? {
                Val::Scalar(s) => Ok(Val::Vector(
                    s.into_iter()
                        .map(|v| vec![Elem::new(watchfire_model::Labels::empty(), v)])
                        .collect(),
                )),
                _ => Err(exec("vector() expects a scalar")),
            },
            "scalar" => match self.eval(arg(0)?, grid)? {
                Val::Vector(steps) => Ok(Val::Scalar(
                    steps
                        .into_iter()
                        .map(|s| if s.len() == 1 { s[0].v } else { f64::NAN })
                        .collect(),
                )),
                _ => Err(exec("scalar() expects an instant vector")),
            },
            "round" => {
                let v = self.eval(arg(0)?, grid)?;
                let to = match args.get(1) {
                    Some(e) => Some(self.eval(e, grid)?),
                    None => None,
                };
                map_vector(v, |i, x| {
                    let near = to.as_ref().map_or(1.0, |t| scalar_at(t, i));
                    let inv = 1.0 / near;
                    Some((x * inv + 0.5).floor() / inv)
                })
            }
            "clamp" | "clamp_min" | "clamp_max" => {
                let v = self.eval(arg(0)?, grid)?;
                let a = self.eval(arg(1)?, grid)?;
                let b = if name == "clamp" {
                    Some(self.eval(arg(2)?, grid)?)
                } else {
                    None
                };
                map_vector(v, |i, x| match name {
                    "clamp_min" => Some(go_max(scalar_at(&a, i), x)),
                    "clamp_max" => Some(go_min(scalar_at(&a, i), x)),
                    _ => {
                        let (lo, hi) = (
                            scalar_at(&a, i),
                            b.as_ref().map_or(f64::NAN, |b| scalar_at(b, i)),
                        );
                        if hi < lo {
                            None
                        } else {
                            Some(go_max(lo, go_min(hi, x)))
                        }
                    }
                })
            }
            "timestamp" => self.eval_timestamp(arg(0)?, grid),
            "minute" | "hour" | "day_of_month" | "day_of_week" | "day_of_year"
            | "days_in_month" | "month" | "year" => match args.first() {
                None => Ok(Val::Vector(
                    grid.times()
                        .iter()
                        .map(|t| {
                            vec![Elem::new(
                                watchfire_model::Labels::empty(),
                                date_part(name, *t as f64 / 1000.0),
                            )]
                        })
                        .collect(),
                )),
                Some(e) => {
                    let v = self.eval(e, grid)?;
                    map_vector(v, |_, x| Some(date_part(name, x)))
                }
            },
            "histogram_quantile" => self.eval_histogram_quantile(args, pos, grid),
            "info" => self.eval_info(args, grid),
            other if other.starts_with("histogram_") => Err(QueryError::Unsupported(format!(
                "function {other:?} works on native histograms, which are not supported"
            ))),
            other => Err(QueryError::Unsupported(format!(
                "function {other:?} is not implemented"
            ))),
        }
    }

    fn eval_timestamp(&mut self, arg: &Expr, grid: Grid) -> Result<Val, QueryError> {
        let mut inner = arg;
        while let Expr::Paren(e) = inner {
            inner = e;
        }
        if let Expr::VectorSelector(vs) = inner {
            let series = self.select_points(vs, grid)?;
            let mut steps: Vec<Vec<Elem>> = vec![Vec::new(); grid.len()];
            for (labels, pts) in series {
                for (i, p) in pts.into_iter().enumerate() {
                    if let (Some((t, _)), Some(step)) = (p, steps.get_mut(i)) {
                        step.push(Elem {
                            labels: labels.clone(),
                            v: t as f64 / 1000.0,
                            drop: true,
                        });
                    }
                }
            }
            return Ok(Val::Vector(steps));
        }
        let times = grid.times();
        let v = self.eval(arg, grid)?;
        map_vector(v, |i, _| times.get(i).map(|t| *t as f64 / 1000.0))
    }
}

/// Go's `math.Max`: NaN if either is NaN.
fn go_max(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.max(b)
    }
}

/// Go's `math.Min`: NaN if either is NaN.
fn go_min(a: f64, b: f64) -> f64 {
    if a.is_nan() || b.is_nan() {
        f64::NAN
    } else {
        a.min(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates() {
        // 2024-02-29T13:45:00Z
        let t = 1_709_214_300.0;
        assert_eq!(date_part("year", t), 2024.0);
        assert_eq!(date_part("month", t), 2.0);
        assert_eq!(date_part("day_of_month", t), 29.0);
        assert_eq!(date_part("days_in_month", t), 29.0);
        assert_eq!(date_part("hour", t), 13.0);
        assert_eq!(date_part("minute", t), 45.0);
        assert_eq!(date_part("day_of_week", t), 4.0);
        assert_eq!(date_part("day_of_year", t), 60.0);
        assert_eq!(date_part("day_of_week", 0.0), 4.0);
    }
}
