# -*- test-case-name: tests.sm.test_vcard4mapping -*-
"""
The mapping between vcard-temp (XEP-0054) and vCard4 in XML (RFC 6351)
that XEP-0292 section 10 describes, for the properties both carry:

 ============================  ===========================================
 vcard-temp                    vCard4
 ============================  ===========================================
 FN                            fn/text
 N (FAMILY GIVEN MIDDLE        n (surname given additional prefix suffix;
 PREFIX SUFFIX)                MIDDLE is "additional", section 10.1.3)
 NICKNAME                      nickname/text
 BDAY                          bday/date
 EMAIL (USERID; HOME WORK)     email/text (parameters/type: home, work)
 TEL (NUMBER; HOME WORK VOICE  tel/uri C{tel:NUMBER} (parameters/type),
 FAX CELL VIDEO PAGER TEXT)    section 10.3.5
 URL                           url/uri
 TITLE, ROLE                   title/text, role/text
 NOTE, DESC                    note/text (DESC is NOTE, section 10.1.1)
 ORG/ORGNAME                   org/text (ORGUNIT dropped, section 10.3.3)
 PHOTO/EXTVAL                  photo/uri
 PHOTO (TYPE, BINVAL)          photo/uri C{data:TYPE;base64,...} (vCard4
                               to vcard-temp only: the image itself goes to
                               XEP-0084, L{jabberd.sm.avatarconversion})
 ============================  ===========================================

L{merged} keeps what the other side has and the mapping does not cover.
"""

from twisted.words.xish import domish

from jabberd.ns import NS_VCARD, NS_VCARD4
from jabberd.stanza import copyElement

__all__ = ["toVCard4", "toVCardTemp", "merged", "MAPPED_TEMP", "MAPPED_4"]

_TEXT = {"FN": "fn", "NICKNAME": "nickname", "TITLE": "title", "ROLE": "role", "NOTE": "note"}
_N = (("FAMILY", "surname"), ("GIVEN", "given"), ("MIDDLE", "additional"),
      ("PREFIX", "prefix"), ("SUFFIX", "suffix"))
_EMAIL_TYPES = ("HOME", "WORK")
_TEL_TYPES = ("HOME", "WORK", "VOICE", "FAX", "CELL", "VIDEO", "PAGER", "TEXT")

#: The vcard-temp elements (and vCard4 properties) the mapping replaces.
MAPPED_TEMP = frozenset(("FN", "N", "NICKNAME", "BDAY", "EMAIL", "TEL", "URL", "TITLE",
                         "ROLE", "NOTE", "DESC", "ORG"))
MAPPED_4 = frozenset(("fn", "n", "nickname", "bday", "email", "tel", "url", "title", "role",
                      "note", "org", "photo"))


def _children(element, uri=None):
    return [c for c in element.children
            if isinstance(c, domish.Element) and (uri is None or c.uri == uri)]


def _text(element, uri, name):
    for child in _children(element, uri):
        if child.name == name:
            return str(child).strip()
    return ""


def _has(element, uri, name):
    return any(c.name == name for c in _children(element, uri))


# --- vcard-temp to vCard4 ---

def _property(vcard, name, valueType, value, types=()):
    prop = vcard.addElement((NS_VCARD4, name))
    if types:
        typeElement = prop.addElement("parameters").addElement("type")
        for t in types:
            typeElement.addElement("text", content=t)
    prop.addElement(valueType, content=value)
    return prop


def toVCard4(temp):
    """The vCard4 C{<vcard/>} of a vcard-temp C{<vCard/>} (the mapped properties only)."""
    vcard = domish.Element((NS_VCARD4, "vcard"))
    for child in _children(temp, NS_VCARD):
        name, value = child.name, str(child).strip()
        if name in _TEXT and value:
            _property(vcard, _TEXT[name], "text", value)
        elif name == "DESC" and value:
            _property(vcard, "note", "text", value)
        elif name == "N":
            n = vcard.addElement((NS_VCARD4, "n"))
            for old, new in _N:
                n.addElement(new, content=_text(child, NS_VCARD, old) or None)
        elif name == "BDAY" and value:
            _property(vcard, "bday", "date", value)
        elif name == "URL" and value:
            _property(vcard, "url", "uri", value)
        elif name == "EMAIL" and _text(child, NS_VCARD, "USERID"):
            types = [t.lower() for t in _EMAIL_TYPES if _has(child, NS_VCARD, t)]
            _property(vcard, "email", "text", _text(child, NS_VCARD, "USERID"), types)
        elif name == "TEL" and _text(child, NS_VCARD, "NUMBER"):
            types = [t.lower() for t in _TEL_TYPES if _has(child, NS_VCARD, t)]
            _property(vcard, "tel", "uri", "tel:" + _text(child, NS_VCARD, "NUMBER"), types)
        elif name == "ORG" and _text(child, NS_VCARD, "ORGNAME"):
            _property(vcard, "org", "text", _text(child, NS_VCARD, "ORGNAME"))
        elif name == "PHOTO" and _text(child, NS_VCARD, "EXTVAL"):
            _property(vcard, "photo", "uri", _text(child, NS_VCARD, "EXTVAL"))
    return vcard


# --- vCard4 to vcard-temp ---

def _types(prop):
    found = []
    for parameters in _children(prop, NS_VCARD4):
        if parameters.name == "parameters":
            for typeElement in _children(parameters, NS_VCARD4):
                if typeElement.name == "type":
                    found += [str(t).strip().upper() for t in _children(typeElement, NS_VCARD4)]
    return found


def _photo(temp, uri):
    photo = temp.addElement("PHOTO")
    head, comma, data = uri.partition(",")
    if uri.startswith("data:") and comma and head.endswith(";base64"):
        photo.addElement("TYPE", content=head[5:-7] or None)
        photo.addElement("BINVAL", content=data)
    else:
        photo.addElement("EXTVAL", content=uri)


def toVCardTemp(vcard, withPhoto=True):
    """The vcard-temp C{<vCard/>} of a vCard4 C{<vcard/>} (the mapped properties only)."""
    temp = domish.Element((NS_VCARD, "vCard"))
    reverse = {v: k for k, v in _TEXT.items()}
    for prop in _children(vcard, NS_VCARD4):
        name = prop.name
        if name in reverse and _text(prop, NS_VCARD4, "text"):
            temp.addElement(reverse[name], content=_text(prop, NS_VCARD4, "text"))
        elif name == "n":
            n = temp.addElement("N")
            for old, new in _N:
                n.addElement(old, content=_text(prop, NS_VCARD4, new) or None)
        elif name == "bday" and _text(prop, NS_VCARD4, "date"):
            temp.addElement("BDAY", content=_text(prop, NS_VCARD4, "date"))
        elif name == "url" and _text(prop, NS_VCARD4, "uri"):
            temp.addElement("URL", content=_text(prop, NS_VCARD4, "uri"))
        elif name == "email" and _text(prop, NS_VCARD4, "text"):
            email = temp.addElement("EMAIL")
            for t in _types(prop):
                if t in _EMAIL_TYPES:
                    email.addElement(t)
            email.addElement("INTERNET")
            email.addElement("USERID", content=_text(prop, NS_VCARD4, "text"))
        elif name == "tel" and (_text(prop, NS_VCARD4, "uri") or _text(prop, NS_VCARD4, "text")):
            number = _text(prop, NS_VCARD4, "uri") or _text(prop, NS_VCARD4, "text")
            tel = temp.addElement("TEL")
            for t in _types(prop):
                if t in _TEL_TYPES:
                    tel.addElement(t)
            tel.addElement("NUMBER", content=number[4:] if number.startswith("tel:") else number)
        elif name == "org" and _text(prop, NS_VCARD4, "text"):
            temp.addElement("ORG").addElement("ORGNAME", content=_text(prop, NS_VCARD4, "text"))
        elif name == "photo" and withPhoto and _text(prop, NS_VCARD4, "uri"):
            _photo(temp, _text(prop, NS_VCARD4, "uri"))
    return temp


def merged(converted, previous, mapped):
    """
    C{converted} followed by a copy of each child of C{previous} (or
    nothing, for None) whose name is not in C{mapped}: what the mapping does
    not cover stays as it was.
    """
    result = copyElement(converted)
    if previous is not None:
        for child in _children(previous):
            if child.name not in mapped:
                result.addChild(copyElement(child))
    return result
