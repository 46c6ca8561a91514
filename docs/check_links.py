"""mkdocs hook: a broken internal link on a notebook page is a build warning, so `--strict` fails the build.

mkdocs validates the links of Markdown pages itself; mkdocs-jupyter renders notebooks to HTML on its own, so the
links and images of every page are checked here, once the site is written: the file must exist in the site and
the anchor, if any, must be an `id` on the target page."""
import logging, os, posixpath
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit

log = logging.getLogger('mkdocs.hooks.check_links')
_pages = {}  # page path in the site -> its _Refs


class _Refs(HTMLParser):
    "The link targets (`a href`, `img src`) and the ids of an HTML fragment."
    def __init__(self, html: str):
        super().__init__()
        self.refs, self.ids = [], set()
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        ref = a.get('href') if tag == 'a' else a.get('src') if tag == 'img' else None
        if ref: self.refs.append(ref)


def on_pre_build(config):
    _pages.clear()


def on_page_content(html, page, config, files):
    _pages[page.file.dest_uri] = _Refs(html)
    return html


def on_post_build(config):
    site = config.site_dir
    for page, found in _pages.items():
        for ref in found.refs:
            url = urlsplit(ref)
            if url.scheme or url.netloc: continue  # outside the site, or inline data
            target = posixpath.normpath(posixpath.join(posixpath.dirname(page), unquote(url.path))) if url.path else page
            if url.path.startswith('/') or target == '..' or target.startswith('../'):
                log.warning(f"{page}: link to '{ref}': not a path inside the site, relative to the page")
            elif not os.path.isfile(os.path.join(site, target)):
                log.warning(f"{page}: link to '{ref}': {target} is not in the site")
            elif url.fragment and target in _pages and unquote(url.fragment) not in _pages[target].ids:
                log.warning(f"{page}: link to '{ref}': {target} has no anchor '#{url.fragment}'")
