//! A small PDF object model: just what signing needs.

use std::fmt;

/// An indirect object's number and generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectId {
    /// Object number.
    pub number: u32,
    /// Generation number.
    pub generation: u16,
}

impl ObjectId {
    /// Makes an id from number and generation.
    pub const fn new(number: u32, generation: u16) -> Self {
        ObjectId { number, generation }
    }
}

impl fmt::Display for ObjectId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {} R", self.number, self.generation)
    }
}

/// A PDF object.
#[non_exhaustive]
#[derive(Debug, Clone, PartialEq)]
pub enum Object {
    /// `null`.
    Null,
    /// `true` / `false`.
    Boolean(bool),
    /// An integer.
    Integer(i64),
    /// A real number.
    Real(f64),
    /// A literal string `( ... )`, decoded bytes.
    String(Vec<u8>),
    /// A hexadecimal string `< ... >`, decoded bytes.
    HexString(Vec<u8>),
    /// A name, without the slash, `#xx` escapes decoded.
    Name(Vec<u8>),
    /// An array.
    Array(Vec<Object>),
    /// A dictionary.
    Dictionary(Dictionary),
    /// A stream: its dictionary and its raw (still encoded) data.
    Stream(Stream),
    /// An indirect reference `n g R`.
    Reference(ObjectId),
}

impl Object {
    /// Makes a name object.
    pub fn name(name: &str) -> Object {
        Object::Name(name.as_bytes().to_vec())
    }

    /// The dictionary of a dictionary or stream object.
    pub fn as_dict(&self) -> Option<&Dictionary> {
        match self {
            Object::Dictionary(d) => Some(d),
            Object::Stream(s) => Some(&s.dict),
            _ => None,
        }
    }

    /// The integer value.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Object::Integer(i) => Some(*i),
            _ => None,
        }
    }

    /// The name bytes.
    pub fn as_name(&self) -> Option<&[u8]> {
        match self {
            Object::Name(n) => Some(n),
            _ => None,
        }
    }

    /// The bytes of a literal or hex string.
    pub fn as_string_bytes(&self) -> Option<&[u8]> {
        match self {
            Object::String(s) | Object::HexString(s) => Some(s),
            _ => None,
        }
    }

    /// The array elements.
    pub fn as_array(&self) -> Option<&[Object]> {
        match self {
            Object::Array(a) => Some(a),
            _ => None,
        }
    }

    /// The referenced id.
    pub fn as_reference(&self) -> Option<ObjectId> {
        match self {
            Object::Reference(id) => Some(*id),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Object::Null)
    }
}

/// A stream object: dictionary plus raw data.
#[derive(Debug, Clone, PartialEq)]
pub struct Stream {
    /// The stream dictionary. `/Length` is rewritten from `data` when serialized.
    pub dict: Dictionary,
    /// The raw, still filtered, data.
    pub data: Vec<u8>,
}

/// A dictionary that keeps its keys in file order (so rewritten objects stay recognisable).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dictionary {
    entries: Vec<(Vec<u8>, Object)>,
}

impl Dictionary {
    /// An empty dictionary.
    pub fn new() -> Self {
        Dictionary::default()
    }

    /// The value for `key` (a name without its slash).
    pub fn get(&self, key: &[u8]) -> Option<&Object> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_slice() == key)
            .map(|(_, v)| v)
    }

    /// Mutable access to the value for `key`.
    pub fn get_mut(&mut self, key: &[u8]) -> Option<&mut Object> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.as_slice() == key)
            .map(|(_, v)| v)
    }

    /// Sets `key` to `value`, replacing an existing entry in place or appending a new one.
    pub fn set(&mut self, key: impl Into<Vec<u8>>, value: Object) {
        let key = key.into();
        if let Some(slot) = self.get_mut(&key) {
            *slot = value;
        } else {
            self.entries.push((key, value));
        }
    }

    /// Removes `key`, returning its value.
    pub fn remove(&mut self, key: &[u8]) -> Option<Object> {
        let pos = self.entries.iter().position(|(k, _)| k.as_slice() == key)?;
        Some(self.entries.remove(pos).1)
    }

    /// Whether `key` is present.
    pub fn has(&self, key: &[u8]) -> bool {
        self.get(key).is_some()
    }

    /// Entries in order.
    pub fn iter(&self) -> impl Iterator<Item = (&[u8], &Object)> {
        self.entries.iter().map(|(k, v)| (k.as_slice(), v))
    }

    /// Number of entries.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no entries.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether `key` holds the name `name`.
    pub fn name_is(&self, key: &[u8], name: &[u8]) -> bool {
        self.get(key).and_then(Object::as_name) == Some(name)
    }
}

impl FromIterator<(Vec<u8>, Object)> for Dictionary {
    fn from_iter<T: IntoIterator<Item = (Vec<u8>, Object)>>(iter: T) -> Self {
        let mut d = Dictionary::new();
        for (k, v) in iter {
            d.set(k, v);
        }
        d
    }
}
