"""The documentation site: `python docs/build.py` builds it from the notebooks, and headless Chromium opens its pages.

Needs the docs extra (`pip install -e ".[docs]"`) and Debian's `chromium` and `chromium-driver`; skips without them.
With MODULENAS_SCREENSHOTS=DIR (a folder outside the repository) the pages' screenshots are saved there."""
import functools, http.server, importlib.util, json, os, re, shutil, subprocess, sys, threading, time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM_FLAGS = ('--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
                  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--window-size=1280,1000')

_missing_packages = [m for m in ('mkdocs', 'material', 'mkdocs_jupyter', 'selenium') if importlib.util.find_spec(m) is None]
needs_docs = pytest.mark.skipif(bool(_missing_packages), reason=f'the docs extra is not installed (no {", ".join(_missing_packages)}): '
                                                               'pip install -e ".[docs]"')
_browser = {name: shutil.which(name) for name in ('chromium', 'chromedriver')}
needs_browser = pytest.mark.skipif(not all(_browser.values()), reason=f'{" and ".join(n for n, p in _browser.items() if not p)} '
                                                                      'not found: apt-get install chromium chromium-driver')

# page: (title, text on it, the least number of plots on it, the element a screenshot shows)
PAGES = {
    'index.html': ('modulenas', 'from modulenas import KnowledgeBase', 0, 'h1'),
    'search.html': ('Search - modulenas', 'def search(', 0, 'h3#search'),
    'tutorials/search.html': ('Walkthrough: search, fine-tune, export - modulenas', 'run_main(', 1, 'img.plot'),
}


def build_site(project: Path, out: Path) -> subprocess.CompletedProcess:
    "Run the documented command, `python docs/build.py --out OUT`, in `project`."
    return subprocess.run([sys.executable, str(project/'docs'/'build.py'), '--out', str(out)], cwd=project,
                          capture_output=True, text=True, timeout=600, env={**os.environ, 'MPLBACKEND': 'Agg'})


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    "Serves the site's files without a log line per request."
    def log_message(self, *args): pass


@pytest.fixture(scope='module')
def site_url(tmp_path_factory):
    "The site built from this repository's notebooks, served on localhost."
    site = tmp_path_factory.mktemp('docs')/'site'
    r = build_site(ROOT, site)
    assert r.returncode == 0, f'python docs/build.py failed:\n{r.stdout}\n{r.stderr[-5000:]}'
    handler = functools.partial(_QuietHandler, directory=str(site))
    with http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        yield f'http://127.0.0.1:{server.server_port}'
        server.shutdown()


@pytest.fixture(scope='module')
def browser(tmp_path_factory):
    "Headless Chromium through Debian's chromedriver, with a fresh profile, keeping the console log."
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    for flag in CHROMIUM_FLAGS: options.add_argument(flag)
    options.add_argument(f'--user-data-dir={tmp_path_factory.mktemp("chromium-profile")}')
    options.binary_location = _browser['chromium']
    options.set_capability('goog:loggingPrefs', {'browser': 'ALL'})
    driver = webdriver.Chrome(service=Service(_browser['chromedriver']), options=options)
    yield driver
    driver.quit()


@pytest.fixture(scope='module')
def screenshots():
    "The folder in MODULENAS_SCREENSHOTS (None: no screenshots); never one inside the repository."
    folder = os.environ.get('MODULENAS_SCREENSHOTS')
    if not folder: return None
    folder = Path(folder).resolve()
    if folder == ROOT or ROOT in folder.parents: pytest.fail(f'MODULENAS_SCREENSHOTS={folder} is inside the repository: choose a folder outside it')
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@needs_docs
@needs_browser
@pytest.mark.parametrize('page', PAGES)
def test_page_renders(page, site_url, browser, screenshots):
    "The page has its title and text, every image loaded and described (the plots among them), and the console shows no error."
    from selenium.webdriver.common.by import By
    title, text, n_plots, shown = PAGES[page]
    browser.get(f'{site_url}/{page}')
    assert browser.title == title
    assert text in browser.find_element(By.CSS_SELECTOR, 'article').text
    images = browser.execute_script('return [...document.querySelectorAll("article img")].map(i => [i.complete, i.naturalWidth, i.naturalHeight, i.alt])')
    assert all(done and w > 0 and h > 0 for done, w, h, _ in images), f'images that did not load: {[i[:3] for i in images]}'
    assert all(alt and not alt.startswith('No description') for *_, alt in images), f'images without alternative text: {images}'
    plots = browser.find_elements(By.CSS_SELECTOR, 'img.plot')
    assert len(plots) >= n_plots, f'{len(plots)} plots, expected at least {n_plots}'
    errors = [e for e in browser.get_log('browser') if e['level'] == 'SEVERE']
    assert not errors, f'console errors on {page}: {json.dumps(errors, indent=1)}'
    if screenshots:
        browser.execute_script('arguments[0].scrollIntoView(); window.scrollBy(0, -80)', browser.find_element(By.CSS_SELECTOR, shown))
        time.sleep(0.5)  # the header's title changes as the page scrolls
        browser.save_screenshot(str(screenshots/(page.replace('/', '_').removesuffix('.html') + '.png')))


@needs_docs
@needs_browser
def test_search_offline(site_url, browser):
    "The search box finds a function's page from the site's own index."
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait
    browser.get(f'{site_url}/index.html')
    box = browser.find_element(By.CSS_SELECTOR, 'input.md-search__input')
    box.click()
    box.send_keys('hypervolume')
    found = WebDriverWait(browser, 20).until(lambda b: b.find_elements(By.CSS_SELECTOR, '.md-search-result__item a'))
    assert any('search.html' in a.get_attribute('href') for a in found)


def _notebook(*markdown: str) -> str:
    "A notebook of markdown cells."
    cells = [{'cell_type': 'markdown', 'id': f'cell{i}', 'metadata': {}, 'source': s} for i, s in enumerate(markdown)]
    return json.dumps({'cells': cells, 'metadata': {'kernelspec': {'name': 'python3', 'display_name': 'Python 3', 'language': 'python'}},
                       'nbformat': 4, 'nbformat_minor': 5})


def _tiny_project(tmp_path: Path) -> Path:
    "An empty nbdev project with this project's documentation build, in `tmp_path`/project."
    project = tmp_path/'project'
    shutil.copytree(ROOT/'docs', project/'docs', ignore=shutil.ignore_patterns('__pycache__'))
    (project/'pyproject.toml').write_text('[project]\nname = "tiny"\nversion = "0.1"\n\n[tool.nbdev]\n')
    (project/'nbs').mkdir()
    return project


@needs_docs
def test_broken_link_fails_build(tmp_path):
    "A two-page project builds; one link in a notebook to a page or an anchor that does not exist fails the build, named."
    project = _tiny_project(tmp_path)
    (project/'nbs'/'01_guide.ipynb').write_text(_notebook('# Guide\n> How to use it.', '## Usage\n\nBack [home](index.html).'))
    index = project/'nbs'/'index.ipynb'
    index.write_text(_notebook('# Tiny\n> Two pages.', 'See [the guide](guide.html#usage).'))
    r = build_site(project, tmp_path/'good')
    assert r.returncode == 0, r.stdout + r.stderr

    index.write_text(_notebook('# Tiny\n> Two pages.', 'See [the guide](guide.html#usage), [gone](gone.html), [nowhere](guide.html#nowhere).'))
    r = build_site(project, tmp_path/'broken')
    assert r.returncode != 0, 'a broken link did not fail the build'
    assert "link to 'gone.html'" in r.stderr and "no anchor '#nowhere'" in r.stderr and 'strict mode' in r.stderr, r.stderr
    assert "'guide.html#usage'" not in r.stderr


_PNG = ('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==')  # 1x1 pixel


@needs_docs
def test_plot_needs_alt_text(tmp_path):
    "A saved plot whose cell has no `#| fig-alt:` line fails the build, named; with one, the page's image carries that text."
    project = _tiny_project(tmp_path)
    nb = json.loads(_notebook('# Tiny\n> One page with a plot.'))
    plot = {'cell_type': 'code', 'id': 'plot', 'metadata': {}, 'execution_count': 1, 'source': 'draw()',
            'outputs': [{'output_type': 'display_data', 'metadata': {}, 'data': {'image/png': _PNG, 'text/plain': '<Figure>'}}]}
    nb['cells'].append(plot)
    (project/'nbs'/'index.ipynb').write_text(json.dumps(nb))
    r = build_site(project, tmp_path/'bare')
    assert r.returncode != 0, 'a plot without alternative text did not fail the build'
    assert "alternative text" in r.stderr and "index.ipynb, the cell 'draw()'" in r.stderr, r.stderr

    plot['source'] = '#| fig-alt: A single dot.\ndraw()'
    (project/'nbs'/'index.ipynb').write_text(json.dumps(nb))
    r = build_site(project, tmp_path/'described')
    assert r.returncode == 0, r.stdout + r.stderr
    page = (tmp_path/'described'/'index.html').read_text()
    imgs = re.findall(r'<img[^>]*>', page)
    assert any(_PNG in i and 'alt="A single dot."' in i for i in imgs), imgs
