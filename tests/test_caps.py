"""
Tests for L{jabberd.caps}: XEP-0115 verification strings, checked against
the simple and complex generation examples of sections 5.2 and 5.3 and the
processing rules of section 5.4.
"""

import base64
import hashlib

import pytest

from jabberd.caps import (HASHES, IllFormed, Mismatch, capsElement, capsOf, infoOf, parseInfo,
                          verificationString, verify)
from jabberd.ns import NS_CAPS
from tests.sm.helpers import parse

DISCO = "http://jabber.org/protocol/disco#info"

#: Section 5.2: Exodus 0.9.1.
SIMPLE = f"""
<query xmlns='{DISCO}' node='http://code.google.com/p/exodus#QgayPKawpkPSDYmwT/WM94uAlu0='>
  <identity category='client' name='Exodus 0.9.1' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
</query>"""
SIMPLE_VER = "QgayPKawpkPSDYmwT/WM94uAlu0="

#: Section 5.3: Psi 0.11, two languages and a software information form.
COMPLEX = f"""
<query xmlns='{DISCO}' node='http://psi-im.org#q07IKJEyjvHSyhy//CH0CxmKi8w='>
  <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
  <identity xml:lang='el' category='client' name='\u03a8 0.11' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <feature var='http://jabber.org/protocol/muc'/>
  <x xmlns='jabber:x:data' type='result'>
    <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
    <field var='ip_version'><value>ipv4</value><value>ipv6</value></field>
    <field var='os'><value>Mac</value></field>
    <field var='os_version'><value>10.5.1</value></field>
    <field var='software'><value>Psi</value></field>
    <field var='software_version'><value>0.11</value></field>
  </x>
</query>"""
COMPLEX_VER = "q07IKJEyjvHSyhy//CH0CxmKi8w="


def query(xml):
    return parse(xml.strip(), DISCO)


def test_simpleGenerationExample():
    """The section 5.2 response verifies against its published ver, with its four features."""
    features = verify("sha-1", SIMPLE_VER, query(SIMPLE))
    assert features == {"http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info",
                        "http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc"}
    assert infoOf(query(SIMPLE)) == SIMPLE_VER


def test_complexGenerationExample():
    """The section 5.3 response (two xml:lang identities, a form with a multi-valued field) gives its ver."""
    assert infoOf(query(COMPLEX)) == COMPLEX_VER
    assert "http://jabber.org/protocol/muc" in verify("sha-1", COMPLEX_VER, query(COMPLEX))


def test_simpleStringSpelledOut():
    """The string hashed is section 5.2's S, byte for byte."""
    s = ("client/pc//Exodus 0.9.1<http://jabber.org/protocol/caps<"
         "http://jabber.org/protocol/disco#info<http://jabber.org/protocol/disco#items<"
         "http://jabber.org/protocol/muc<")
    expected = base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
    assert infoOf(query(SIMPLE), "sha-256") == expected
    assert verify("sha-256", expected, query(SIMPLE))


def test_orderOfElementsIrrelevant():
    """Identities, features, forms, fields and values are sorted: their order in the response does not change the string."""
    shuffled = f"""
<query xmlns='{DISCO}'>
  <x xmlns='jabber:x:data' type='result'>
    <field var='software_version'><value>0.11</value></field>
    <field var='ip_version'><value>ipv6</value><value>ipv4</value></field>
    <field var='software'><value>Psi</value></field>
    <field var='os_version'><value>10.5.1</value></field>
    <field var='os'><value>Mac</value></field>
    <field var='FORM_TYPE' type='hidden'><value>urn:xmpp:dataforms:softwareinfo</value></field>
  </x>
  <feature var='http://jabber.org/protocol/muc'/>
  <feature var='http://jabber.org/protocol/disco#items'/>
  <identity xml:lang='el' category='client' name='\u03a8 0.11' type='pc'/>
  <feature var='http://jabber.org/protocol/disco#info'/>
  <identity xml:lang='en' category='client' name='Psi 0.11' type='pc'/>
  <feature var='http://jabber.org/protocol/caps'/>
</query>"""
    assert infoOf(query(shuffled)) == COMPLEX_VER


def test_wrongHashIsMismatch():
    """A ver that is not the hash of the response (one feature more) is a Mismatch."""
    extra = SIMPLE.replace("</query>", "<feature var='urn:xmpp:avatar:metadata+notify'/></query>")
    with pytest.raises(Mismatch):
        verify("sha-1", SIMPLE_VER, query(extra))


@pytest.mark.parametrize("duplicate", [
    "<identity category='client' name='Exodus 0.9.1' type='pc'/>",
    "<feature var='http://jabber.org/protocol/muc'/>",
])
def test_duplicatesIllFormed(duplicate):
    """Two equal identities or two equal features make the response ill-formed (section 5.4 steps 3.3, 3.4)."""
    with pytest.raises(IllFormed):
        verify("sha-1", SIMPLE_VER, query(SIMPLE.replace("</query>", duplicate + "</query>")))


def test_formTypeRules():
    """Two forms of one FORM_TYPE, or one FORM_TYPE with two different values, are ill-formed (step 3.5)."""
    form = ("<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE' type='hidden'>"
            "<value>urn:example</value>{extra}</field></x>")
    twice = SIMPLE.replace("</query>", form.format(extra="") * 2 + "</query>")
    with pytest.raises(IllFormed):
        parseInfo(query(twice))
    differing = SIMPLE.replace("</query>", form.format(extra="<value>urn:other</value>") + "</query>")
    with pytest.raises(IllFormed):
        parseInfo(query(differing))


def test_formsWithoutHiddenFormTypeIgnored():
    """A form with no FORM_TYPE, or one not hidden, is left out of the hash (step 3.6)."""
    ignored = ("<x xmlns='jabber:x:data' type='result'><field var='os'><value>Mac</value></field></x>"
               "<x xmlns='jabber:x:data' type='result'><field var='FORM_TYPE'>"
               "<value>urn:example</value></field></x>")
    assert verify("sha-1", SIMPLE_VER, query(SIMPLE.replace("</query>", ignored + "</query>")))


def test_identityNeedsCategoryAndType():
    """An identity without a type is ill-formed (XEP-0030 section 3.1)."""
    with pytest.raises(IllFormed):
        parseInfo(query(f"<query xmlns='{DISCO}'><identity category='client'/></query>"))


def test_lessThanNotUnescaped():
    """'&amp;lt;' in a name stays the four characters '&lt;' in the string (the section 5.1 warning)."""
    xml = f"<query xmlns='{DISCO}'><identity category='client' type='pc' name='a&amp;lt;b'/></query>"
    s = "client/pc//a&lt;b<"
    assert infoOf(query(xml)) == base64.b64encode(hashlib.sha1(s.encode()).digest()).decode()


def test_prefixIdentitiesEitherOrder():
    """Identities whose types are prefixes of each other verify in the field by field order and in the joined-string order."""
    xml = (f"<query xmlns='{DISCO}'><identity category='client' type='pc'/>"
           "<identity category='client' type='pc-x'/></query>")
    fieldwise = "client/pc//<client/pc-x//<"
    joined = "client/pc-x//<client/pc//<"
    for s in (fieldwise, joined):
        ver = base64.b64encode(hashlib.sha1(s.encode()).digest()).decode()
        assert verify("sha-1", ver, query(xml)) == frozenset()


def test_hashesOffered():
    """SHA-1 and the SHA-2 family are supported; MD5 is not."""
    assert {"sha-1", "sha-256", "sha-512"} <= set(HASHES)
    assert "md5" not in HASHES


def test_capsOfPresence():
    """capsOf finds the <c/> child of a presence, and nothing in a presence without one."""
    c = capsElement("sha-1", "http://example.org/client", SIMPLE_VER)
    presence = parse(f"<presence><show>away</show>{c.toXml()}</presence>")
    found = capsOf(presence)
    assert (found.uri, found["hash"], found["ver"]) == (NS_CAPS, "sha-1", SIMPLE_VER)
    assert capsOf(parse("<presence><show>away</show>text</presence>")) is None


def test_verificationStringOfParts():
    """verificationString takes the parts directly, sorted or not."""
    identities = [("client", "pc", "", "Exodus 0.9.1")]
    features = ["http://jabber.org/protocol/muc", "http://jabber.org/protocol/disco#items",
                "http://jabber.org/protocol/disco#info", "http://jabber.org/protocol/caps"]
    assert verificationString(identities, features) == SIMPLE_VER
