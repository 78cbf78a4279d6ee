# -*- test-case-name: tests.test_caps -*-
"""
Entity Capabilities (XEP-0115) verification strings, computed and checked
with no state: what the session manager's caps cache
(L{jabberd.sm.caps}) and the server's own stream feature rely on.

 - Generation (section 5.1): identities sorted by category, type and
   xml:lang, written C{category/type/lang/name<}; features sorted, each
   followed by C{<}; then the XEP-0128 forms sorted by FORM_TYPE, each
   written as its FORM_TYPE value, then its other fields sorted by C{var},
   each C{var<} and its values sorted, each followed by C{<}.  The string is
   UTF-8, hashed, Base64.  Sorting is "i;octet" (RFC 4790 section 9.3);
   Python orders strings by code point, which is the order of their UTF-8
   octets.
 - Processing (section 5.4): a response with two equal identities, two
   equal features, two forms of one FORM_TYPE or a FORM_TYPE with differing
   values is ill-formed (L{IllFormed}); a form whose FORM_TYPE is missing or
   not hidden is left out of the hash.  The string is never unescaped (the
   "&lt;" warning of section 5.1): parsed XML gives the characters as sent.
 - Hashes (section 8.1 and 9.1): SHA-1, mandatory, and the SHA-2 functions
   of the IANA Hash Function Textual Names registry that section 9.1 points
   to.  MD2 and MD5 are refused as too weak to keep a cache shared by all
   users honest, and the SHAKE functions because the registry gives them no
   output length; such caps are treated as unsupported (section 5.4 step 2).
"""

import base64
import hashlib

from twisted.words.xish import domish

from jabberd.ns import NS_CAPS, NS_DATA, NS_DISCO_INFO, NS_XML

__all__ = ["HASHES", "IllFormed", "Mismatch", "parseInfo", "verificationString",
           "verify", "capsOf", "capsElement", "infoOf"]

#: Hash names of the IANA registry (XEP-0115 section 9.1) -> hashlib constructors.
HASHES = {
    "sha-1": hashlib.sha1,
    "sha-224": hashlib.sha224,
    "sha-256": hashlib.sha256,
    "sha-384": hashlib.sha384,
    "sha-512": hashlib.sha512,
}

_LANG = (NS_XML, "lang")


class IllFormed(ValueError):
    """A disco#info response section 5.4 calls ill-formed; it verifies nothing."""


class Mismatch(ValueError):
    """The response is well-formed but hashes to another verification string."""


def _lang(identity):
    return identity.attributes.get(_LANG) or identity.attributes.get("xml:lang") or ""


def _text(element):
    return "".join(str(child) for child in element.children if isinstance(child, str))


def _form(x):
    """
    (FORM_TYPE, [(var, [values])]) of one XEP-0128 form, or None for a form
    section 5.4 says to ignore (no FORM_TYPE, or not hidden).
    """
    formType, fields = None, []
    for field in x.elements(NS_DATA, "field"):
        var = field.getAttribute("var")
        values = [_text(value) for value in field.elements(NS_DATA, "value")]
        if var == "FORM_TYPE":
            if field.getAttribute("type") != "hidden":
                return None
            if len(set(values)) != 1:
                raise IllFormed("a FORM_TYPE with no value or differing values")
            formType = values[0]
        elif var is not None:
            fields.append((var, values))
    return None if formType is None else (formType, fields)


def parseInfo(query):
    """
    The identities ((category, type, lang, name) tuples), features and
    forms (as L{_form} gives them) of a disco#info C{<query/>}.

    @raise IllFormed: by the rules of section 5.4 step 3, or for an identity
        without the category and type XEP-0030 section 3.1 requires.
    """
    identities, features, forms = [], [], []
    for child in query.elements():
        if child.uri == NS_DISCO_INFO and child.name == "identity":
            category, kind = child.getAttribute("category"), child.getAttribute("type")
            if not category or not kind:
                raise IllFormed("an identity without category or type")
            identities.append((category, kind, _lang(child), child.getAttribute("name") or ""))
        elif child.uri == NS_DISCO_INFO and child.name == "feature":
            features.append(child.getAttribute("var") or "")
        elif child.uri == NS_DATA and child.name == "x":
            form = _form(child)
            if form is not None:
                forms.append(form)
    if len(set(identities)) != len(identities):
        raise IllFormed("two identities with the same category/type/lang/name")
    if len(set(features)) != len(features):
        raise IllFormed("two features with the same var")
    if len({formType for formType, _fields in forms}) != len(forms):
        raise IllFormed("two forms with the same FORM_TYPE")
    return identities, features, forms


def _string(identities, features, forms):
    parts = ["/".join(identity) + "<" for identity in identities]
    parts.extend(feature + "<" for feature in sorted(features))
    for formType, fields in sorted(forms, key=lambda form: form[0]):
        parts.append(formType + "<")
        for var, values in sorted(fields, key=lambda field: field[0]):
            parts.append(var + "<")
            parts.extend(value + "<" for value in sorted(values))
    return "".join(parts)


def _hashed(text, hashName):
    digest = HASHES[hashName](text.encode("utf-8")).digest()
    return base64.b64encode(digest).decode("ascii")


def verificationString(identities, features, forms=(), hashName="sha-1"):
    """
    The verification string of section 5.1 for L{parseInfo}'s parts,
    hashed with C{hashName} (a key of L{HASHES}).
    """
    return _hashed(_string(sorted(identities), features, forms), hashName)


def verify(hashName, ver, query):
    """
    The features of the disco#info C{query} if it hashes, with C{hashName},
    to C{ver} (section 5.4 step 3), as a frozenset.

    @raise IllFormed: the response is ill-formed (section 5.4 steps 3.3-3.5).
    @raise Mismatch: it hashes to another string (step 3.9).
    """
    identities, features, forms = parseInfo(query)
    ordered = sorted(identities)
    if _hashed(_string(ordered, features, forms), hashName) == ver:
        return frozenset(features)
    # COMPAT: slixmpp and others sort the joined "category/type/lang/name"
    # strings, which orders differently from section 5.1's field by field
    # sort only when one category or type is a prefix of another.
    joined = sorted(identities, key="/".join)
    if joined != ordered and _hashed(_string(joined, features, forms), hashName) == ver:
        return frozenset(features)
    raise Mismatch(f"the response hashes to {_hashed(_string(ordered, features, forms), hashName)}")


def capsOf(presence):
    """
    The C{<c xmlns='http://jabber.org/protocol/caps'/>} child of C{presence},
    or None: a look at the direct children only, as the stanza was parsed.
    """
    for child in presence.children:
        if getattr(child, "name", None) == "c" and child.uri == NS_CAPS:
            return child
    return None


def capsElement(hashName, node, ver):
    """The C{<c/>} element of section 4 (presence, or the stream feature of section 6.3)."""
    c = domish.Element((NS_CAPS, "c"))
    c["hash"], c["node"], c["ver"] = hashName, node, ver
    return c


def infoOf(query, hashName="sha-1"):
    """The verification string of a disco#info C{query} this server builds itself."""
    return verificationString(*parseInfo(query), hashName=hashName)
