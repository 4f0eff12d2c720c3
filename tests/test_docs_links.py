"""Relative links of the Markdown docs point at files and headings that
exist (GitHub's heading anchors, or explicit ``<a id=...>`` ones)."""
import glob
import os.path as osp
import re

import pytest

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
LINK = re.compile(r'\[[^\]]*\]\(([^)\s]+)\)')


def _markdown_files():
    files = glob.glob(osp.join(REPO, '*.md')) + glob.glob(
        osp.join(REPO, 'docs', '**', '*.md'), recursive=True)
    return sorted(osp.relpath(f, REPO) for f in files)


def slug(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped
    (letters, digits, '_', '-' and spaces kept), spaces to hyphens."""
    text = re.sub(r'`|\*', '', heading.strip().lower())
    text = re.sub(r'[^\w\- ]', '', text)
    return text.replace(' ', '-')


def anchors(path: str) -> set:
    with open(osp.join(REPO, path)) as f:
        text = f.read()
    text = re.sub(r'```.*?```', '', text, flags=re.S)
    seen, found = {}, set()
    for heading in re.findall(r'^#{1,6} (.+)$', text, re.M):
        base = slug(heading)
        count = seen.get(base, 0)
        found.add(base if count == 0 else f'{base}-{count}')
        seen[base] = count + 1
    found.update(re.findall(r'<a id="([^"]+)"', text))
    return found


def test_slug_by_hand():
    assert slug('PGD: the whole pipeline against Vanilla') == \
        'pgd-the-whole-pipeline-against-vanilla'
    assert slug('IE: sensitivity to tau and alpha_s') == \
        'ie-sensitivity-to-tau-and-alpha_s'
    assert slug('The `bias_pipeline` (step 1)') == 'the-bias_pipeline-step-1'


@pytest.mark.parametrize('path', _markdown_files())
def test_relative_links_resolve(path):
    with open(osp.join(REPO, path)) as f:
        text = re.sub(r'```.*?```', '', f.read(), flags=re.S)
    broken = []
    for target in LINK.findall(text):
        if re.match(r'[a-z]+:', target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition('#')
        linked = osp.normpath(
            osp.join(osp.dirname(path), file_part)) if file_part else path
        if not osp.exists(osp.join(REPO, linked)):
            broken.append(f'{target} (no file {linked})')
        elif anchor and linked.endswith('.md') and anchor not in anchors(
                linked):
            broken.append(f'{target} (no heading #{anchor} in {linked})')
    assert not broken, f'{path}: broken links: {broken}'
