"""Tests for L{jabberd.sm.vcard4mapping}: vcard-temp and vCard4 (XEP-0292 section 10)."""

from jabberd.ns import NS_VCARD, NS_VCARD4
from jabberd.sm.vcard4mapping import MAPPED_TEMP, merged, toVCard4, toVCardTemp
from tests.sm.helpers import parse

TEMP = f"""<vCard xmlns='{NS_VCARD}'>
  <FN>Juliet Capulet</FN>
  <N><FAMILY>Capulet</FAMILY><GIVEN>Juliet</GIVEN><MIDDLE>J</MIDDLE></N>
  <NICKNAME>Jule</NICKNAME>
  <EMAIL><HOME/><INTERNET/><USERID>juliet@example.org</USERID></EMAIL>
  <TEL><WORK/><VOICE/><NUMBER>+1-303-555-1212</NUMBER></TEL>
  <URL>https://capulet.example/</URL>
  <BDAY>1980-04-01</BDAY>
  <DESC>Of Verona.</DESC>
  <ORG><ORGNAME>House Capulet</ORGNAME><ORGUNIT>Balcony</ORGUNIT></ORG>
  <PHOTO><EXTVAL>https://capulet.example/j.png</EXTVAL></PHOTO>
  <ADR><LOCALITY>Verona</LOCALITY></ADR>
</vCard>"""


def texts(element, uri, name, value):
    return [str(next(c.elements(uri, value))) for c in element.elements(uri, name)]


def test_tempToVCard4():
    """FN, N, NICKNAME, EMAIL, TEL, URL, BDAY, DESC, ORG and an EXTVAL photo map to vCard4."""
    v4 = toVCard4(parse(TEMP))
    assert (v4.uri, v4.name) == (NS_VCARD4, "vcard")
    assert texts(v4, NS_VCARD4, "fn", "text") == ["Juliet Capulet"]
    assert texts(v4, NS_VCARD4, "n", "surname") == ["Capulet"]
    assert texts(v4, NS_VCARD4, "n", "additional") == ["J"]
    assert texts(v4, NS_VCARD4, "nickname", "text") == ["Jule"]
    assert texts(v4, NS_VCARD4, "email", "text") == ["juliet@example.org"]
    assert texts(v4, NS_VCARD4, "tel", "uri") == ["tel:+1-303-555-1212"]
    assert texts(v4, NS_VCARD4, "url", "uri") == ["https://capulet.example/"]
    assert texts(v4, NS_VCARD4, "bday", "date") == ["1980-04-01"]
    assert texts(v4, NS_VCARD4, "note", "text") == ["Of Verona."]
    assert texts(v4, NS_VCARD4, "org", "text") == ["House Capulet"]
    assert texts(v4, NS_VCARD4, "photo", "uri") == ["https://capulet.example/j.png"]
    [tel] = v4.elements(NS_VCARD4, "tel")
    types = next(next(tel.elements(NS_VCARD4, "parameters")).elements(NS_VCARD4, "type"))
    assert [str(t) for t in types.elements(NS_VCARD4, "text")] == ["work", "voice"]
    assert list(v4.elements(NS_VCARD4, "adr")) == []


def test_roundTrip():
    """vcard-temp to vCard4 and back keeps the mapped properties."""
    back = toVCardTemp(toVCard4(parse(TEMP)))
    assert [str(c) for c in back.elements(NS_VCARD, "FN")] == ["Juliet Capulet"]
    assert texts(back, NS_VCARD, "EMAIL", "USERID") == ["juliet@example.org"]
    assert texts(back, NS_VCARD, "TEL", "NUMBER") == ["+1-303-555-1212"]
    [tel] = back.elements(NS_VCARD, "TEL")
    assert {c.name for c in tel.elements()} == {"WORK", "VOICE", "NUMBER"}
    assert texts(back, NS_VCARD, "N", "MIDDLE") == ["J"]
    assert texts(back, NS_VCARD, "PHOTO", "EXTVAL") == ["https://capulet.example/j.png"]
    assert [str(c) for c in back.elements(NS_VCARD, "NOTE")] == ["Of Verona."]


def test_dataURIPhotoToBinval():
    """A vCard4 photo given as a base64 data: URI becomes TYPE and BINVAL; withPhoto=False drops it."""
    v4 = parse(f"<vcard xmlns='{NS_VCARD4}'><photo><uri>data:image/png;base64,iVBORw0K</uri>"
               f"</photo></vcard>")
    temp = toVCardTemp(v4)
    assert texts(temp, NS_VCARD, "PHOTO", "TYPE") == ["image/png"]
    assert texts(temp, NS_VCARD, "PHOTO", "BINVAL") == ["iVBORw0K"]
    assert list(toVCardTemp(v4, withPhoto=False).elements(NS_VCARD, "PHOTO")) == []


def test_mergedKeepsWhatIsNotMapped():
    """Merging replaces the mapped elements and keeps the others (ADR, PHOTO)."""
    previous = parse(TEMP)
    new = toVCardTemp(parse(f"<vcard xmlns='{NS_VCARD4}'><fn><text>J. C.</text></fn></vcard>"),
                      withPhoto=False)
    result = merged(new, previous, MAPPED_TEMP)
    assert [c.name for c in result.elements()] == ["FN", "PHOTO", "ADR"]
    assert [str(c) for c in result.elements(NS_VCARD, "FN")] == ["J. C."]
