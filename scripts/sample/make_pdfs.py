"""
Writes the PDF documents of quarry's sample corpus (sample/manuals/*.pdf) from the text
below, so the PDFs can be rebuilt and checked, not just trusted.

    python3 -m venv /tmp/rl && /tmp/rl/bin/pip install reportlab==4.2.5
    /tmp/rl/bin/python scripts/sample/make_pdfs.py

reportlab's invariant mode leaves out the creation time and random document id, so the
same script writes byte-identical files.
"""
from pathlib import Path

from reportlab import rl_config
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

rl_config.invariant = 1

OUT = Path(__file__).resolve().parents[2] / "sample" / "manuals"

DOCS = {
    "trailhead-2p-tent-manual.pdf": (
        "Trailhead 2P tent: pitching and care",
        [
            ("h", "What is in the bag"),
            ("p", "One inner tent, one fly, one hubbed aluminium pole set, ten stakes, four guy lines "
                  "and a repair sleeve for the poles. Packed weight 1.9 kg."),
            ("h", "Pitching"),
            ("p", "Lay the inner tent out with the door facing away from the wind. Assemble the hubbed "
                  "pole and clip the inner to it, starting at the corners. Throw the fly over, match the "
                  "coloured webbing at each corner, and buckle it. Stake the corners first, then the "
                  "vestibules, then the guy lines."),
            ("p", "The fly must not touch the inner tent anywhere. Tighten the corner straps after dark: "
                  "nylon stretches as it cools."),
            ("h", "Broken pole on the trail"),
            ("p", "Slide the repair sleeve over the broken section so that it spans the break, and tape "
                  "both ends. The sleeve holds for the rest of a trip; have the section replaced afterwards."),
            ("pb", ""),
            ("h", "Care and storage"),
            ("p", "Never store the tent packed and damp: mildew ruins the coating within days. Dry it fully, "
                  "shake out grit, and keep it loosely rolled in a cool place. Wash only by hand with a "
                  "technical wash; washing machines strip the seam tape."),
            ("p", "The floor's coating is rated to 3000 mm. A footprint under the floor protects it from "
                  "sharp gravel and roots."),
        ],
    ),
    "warranty-claim-guide.pdf": (
        "Warranty claims: a step-by-step guide",
        [
            ("h", "Before you start"),
            ("p", "Have the order number (ORD- followed by the year and five digits) or the store receipt, "
                  "clear photos of the fault and of the product label, and a short description of how "
                  "and when the problem appeared."),
            ("h", "Step 1: submit the claim"),
            ("p", "Use the warranty form on our website, or bring the item to any store. Online claims "
                  "get an answer within two business days."),
            ("h", "Step 2: assessment"),
            ("p", "Our workshop decides whether the fault is a defect or normal wear. If we need the "
                  "item, we e-mail a prepaid label. Assessment takes up to a week after the item arrives."),
            ("h", "Step 3: the outcome"),
            ("p", "For a defect we repair the item if a repair restores it fully; otherwise we replace it "
                  "with the same or the current equivalent model, or refund the price paid. For wear, we "
                  "quote a paid repair, and you decide."),
            ("p", "Claims for other brands within the first year follow the same steps; we deal with "
                  "the maker for you."),
        ],
    ),
    "ember-2-stove-manual.pdf": (
        "Ember 2 canister stove: instructions",
        [
            ("h", "Lighting"),
            ("p", "Unfold the three pot supports until they click. Screw the stove onto a canister with "
                  "the valve closed, hand tight only. Open the valve a quarter turn and press the piezo "
                  "igniter, or light it with a match held to the side of the burner."),
            ("h", "Output and fuel use"),
            ("p", "Boils one litre of water in about four minutes at sea level, using roughly 12 g of "
                  "fuel. A 230 g canister cooks for two people for three to four days."),
            ("h", "Cold conditions"),
            ("p", "Below about 0 °C the gas in a standard canister vaporises poorly and the flame drops. "
                  "Use a winter blend of isobutane and propane, and keep the canister warm in a jacket "
                  "before cooking."),
            ("h", "Serial number"),
            ("p", "The serial number (EM2- followed by year, month and unit) is printed under the pot "
                  "supports. Quote it in any service request."),
        ],
    ),
}


def build(name: str, title: str, blocks: list[tuple[str, str]]) -> None:
    styles = getSampleStyleSheet()
    story = [Paragraph(title, styles["Title"]), Spacer(1, 12)]
    for kind, text in blocks:
        if kind == "h":
            story.append(Paragraph(text, styles["Heading2"]))
        elif kind == "pb":
            story.append(PageBreak())
        else:
            story.append(Paragraph(text, styles["BodyText"]))
            story.append(Spacer(1, 6))
    doc = SimpleDocTemplate(str(OUT / name), pagesize=letter, title=title, author="Larkspur Outfitters (fictional)")
    doc.build(story)


if __name__ == "__main__":
    OUT.mkdir(parents=True, exist_ok=True)
    for name, (title, blocks) in DOCS.items():
        build(name, title, blocks)
        print(f"wrote {OUT / name}")
