//! Builds objects from tokens (ISO 32000-1 §7.3).

use crate::error::PdfError;
use crate::lexer::{next_token, ByteSource, Token};
use crate::limits::{MAX_DEPTH, MAX_TOKENS_PER_OBJECT};
use crate::object::{Dictionary, Object, ObjectId};

/// A parser with two tokens of look-ahead (enough to recognise `n g R`).
pub(crate) struct Parser<'s, S> {
    src: &'s mut S,
    pending: Vec<(Token, u64)>,
    tokens: usize,
}

impl<'s, S: ByteSource> Parser<'s, S> {
    pub(crate) fn new(src: &'s mut S) -> Self {
        Parser {
            src,
            pending: Vec::new(),
            tokens: 0,
        }
    }

    /// The underlying source; only valid when no token is pending.
    pub(crate) fn source(&mut self) -> &mut S {
        self.src
    }

    /// Whether look-ahead tokens are buffered.
    pub(crate) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    pub(crate) fn next(&mut self) -> Result<Option<(Token, u64)>, PdfError> {
        if let Some(t) = self.pending.pop() {
            return Ok(Some(t));
        }
        self.tokens = self.tokens.saturating_add(1);
        if self.tokens > MAX_TOKENS_PER_OBJECT {
            return Err(PdfError::Budget {
                what: "tokens in one object",
                limit: u64::try_from(MAX_TOKENS_PER_OBJECT).unwrap_or(u64::MAX),
                offset: self.src.pos(),
            });
        }
        next_token(self.src)
    }

    pub(crate) fn push_back(&mut self, t: (Token, u64)) {
        self.pending.push(t);
    }

    /// Reads one object.
    pub(crate) fn object(&mut self) -> Result<Object, PdfError> {
        let Some((tok, at)) = self.next()? else {
            return Err(PdfError::Truncated {
                offset: self.src.pos(),
                context: "an object",
            });
        };
        self.object_from(tok, at, 0)
    }

    fn object_from(&mut self, tok: Token, at: u64, depth: usize) -> Result<Object, PdfError> {
        if depth > MAX_DEPTH {
            return Err(PdfError::Budget {
                what: "object nesting depth",
                limit: u64::try_from(MAX_DEPTH).unwrap_or(u64::MAX),
                offset: at,
            });
        }
        Ok(match tok {
            Token::Integer(n) => self.maybe_reference(n, at)?,
            Token::Real(r) => Object::Real(r),
            Token::Name(n) => Object::Name(n),
            Token::String(s) => Object::String(s),
            Token::HexString(s) => Object::HexString(s),
            Token::ArrayStart => {
                let mut items = Vec::new();
                loop {
                    let Some((t, p)) = self.next()? else {
                        return Err(PdfError::Truncated {
                            offset: self.src.pos(),
                            context: "an array",
                        });
                    };
                    if t == Token::ArrayEnd {
                        break;
                    }
                    items.push(self.object_from(t, p, depth.saturating_add(1))?);
                }
                Object::Array(items)
            }
            Token::DictStart => Object::Dictionary(self.dict_body(depth)?),
            Token::Keyword(k) => match k.as_slice() {
                b"true" => Object::Boolean(true),
                b"false" => Object::Boolean(false),
                b"null" => Object::Null,
                _ => {
                    return Err(PdfError::syntax(
                        at,
                        format!("unexpected keyword {:?}", String::from_utf8_lossy(&k)),
                    ))
                }
            },
            Token::ArrayEnd | Token::DictEnd => {
                return Err(PdfError::syntax(
                    at,
                    "unexpected end of array or dictionary",
                ))
            }
        })
    }

    /// Reads dictionary entries after `<<` up to and including `>>`.
    pub(crate) fn dict_body(&mut self, depth: usize) -> Result<Dictionary, PdfError> {
        let mut dict = Dictionary::new();
        loop {
            let Some((t, p)) = self.next()? else {
                return Err(PdfError::Truncated {
                    offset: self.src.pos(),
                    context: "a dictionary",
                });
            };
            let key = match t {
                Token::DictEnd => break,
                Token::Name(n) => n,
                _ => return Err(PdfError::syntax(p, "dictionary key is not a name")),
            };
            let Some((vt, vp)) = self.next()? else {
                return Err(PdfError::Truncated {
                    offset: self.src.pos(),
                    context: "a dictionary",
                });
            };
            if vt == Token::DictEnd {
                // A key without a value: tolerated as null (seen in the wild), then stop.
                break;
            }
            let value = self.object_from(vt, vp, depth.saturating_add(1))?;
            // A null value is equivalent to an absent entry (§7.3.7).
            if !value.is_null() {
                dict.set(key, value);
            }
        }
        Ok(dict)
    }

    fn maybe_reference(&mut self, n: i64, at: u64) -> Result<Object, PdfError> {
        let Some(second) = self.next()? else {
            return Ok(Object::Integer(n));
        };
        let Token::Integer(g) = second.0 else {
            self.push_back(second);
            return Ok(Object::Integer(n));
        };
        let Some(third) = self.next()? else {
            self.push_back(second);
            return Ok(Object::Integer(n));
        };
        if matches!(&third.0, Token::Keyword(k) if k == b"R") {
            let number =
                u32::try_from(n).map_err(|_| PdfError::syntax(at, "object number out of range"))?;
            let generation =
                u16::try_from(g).map_err(|_| PdfError::syntax(at, "generation out of range"))?;
            return Ok(Object::Reference(ObjectId::new(number, generation)));
        }
        self.push_back(third);
        self.push_back(second);
        Ok(Object::Integer(n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lexer::SliceSource;

    #[test]
    fn parses_nested() {
        let mut s = SliceSource::new(b"<< /A [1 2 0 R 3] /B << /C null /D (x) >> /E 4 >>", 0);
        let mut p = Parser::new(&mut s);
        let o = p.object().unwrap();
        let d = o.as_dict().unwrap();
        assert_eq!(
            d.get(b"A"),
            Some(&Object::Array(vec![
                Object::Integer(1),
                Object::Reference(ObjectId::new(2, 0)),
                Object::Integer(3)
            ]))
        );
        assert!(!d.get(b"B").unwrap().as_dict().unwrap().has(b"C"));
        assert_eq!(d.get(b"E"), Some(&Object::Integer(4)));
    }

    #[test]
    fn deep_nesting_is_bounded() {
        let input = vec![b'['; 10_000];
        let mut s = SliceSource::new(&input, 0);
        let mut p = Parser::new(&mut s);
        assert!(matches!(p.object(), Err(PdfError::Budget { .. })));
    }
}
