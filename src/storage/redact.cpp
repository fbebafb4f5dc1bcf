// Storage URLs in messages: the password never shows. Scanned by hand (no std::regex,
// which recurses per character and overflows its stack on a long text).
#include <algorithm>
#include <mutex>
#include <cctype>
#include <string>
#include <vector>

#include "caviar/storage.h"

namespace caviar {
namespace {

constexpr std::size_t kLongestShown = 4096;

struct Span {
  std::size_t begin, end;        // the password's characters
  std::size_t whole_begin, whole_end;  // what goes with it when it is removed
};

std::vector<Span> password_spans(const std::string& url) {
  std::vector<Span> spans;
  // [scheme://]user:password@host...: the user information ends at the last '@' before the
  // query (a password may hold '/' or '@' that its writer forgot to encode). A misspelt
  // scheme ("postgresq://", "postgres:/") or none at all hides nothing.
  const std::size_t query = url.find('?');
  const std::size_t at = url.rfind('@', query == std::string::npos ? std::string::npos : query);
  if (at != std::string::npos && at > 0) {
    std::size_t start = 0;
    const std::size_t scheme = url.find(':');
    auto scheme_like = [&] {
      if (scheme == 0 || !std::isalpha(static_cast<unsigned char>(url[0]))) return false;
      for (std::size_t i = 0; i < scheme; ++i)
        if (!std::isalnum(static_cast<unsigned char>(url[i])) && url[i] != '+' && url[i] != '.' && url[i] != '-')
          return false;
      return true;
    };
    bool path = false;
    if (scheme != std::string::npos && scheme < at && scheme_like()) {
      std::size_t slashes = 0;
      while (scheme + 1 + slashes < url.size() && url[scheme + 1 + slashes] == '/') ++slashes;
      if (slashes >= 3) path = true;  // sqlite:///file: no user information
      // "scheme:/user:pw@", or "scheme:user:pw@"; but in "user:pw@host" that ':' is the password's
      else if (slashes > 0 || url.find(':', scheme + 1) < at) start = scheme + 1 + slashes;
    }
    const std::size_t colon = path ? std::string::npos : url.find(':', start);
    if (colon != std::string::npos && colon < at) spans.push_back({colon + 1, at, colon, at});
  }
  // password=VALUE (also sslpassword=, any case): a URL's query parameter, or a libpq
  // "key=value" connection string. The value ends at '&' or a blank, or is 'quoted'.
  std::string lower = url;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (std::size_t from = 0; (from = lower.find("password", from)) != std::string::npos; from += 8) {
    std::size_t i = from + 8;
    while (i < url.size() && url[i] == ' ') ++i;
    if (i >= url.size() || url[i] != '=') continue;
    ++i;
    while (i < url.size() && url[i] == ' ') ++i;
    std::size_t end = i;
    if (end < url.size() && url[end] == '\'') {
      for (++end; end < url.size() && url[end] != '\''; ++end)
        if (url[end] == '\\') ++end;
      end = std::min(end + 1, url.size());
    } else {
      while (end < url.size() && url[end] != '&' && !std::isspace(static_cast<unsigned char>(url[end]))) ++end;
    }
    // Removed whole with one separator: "?password=x&a=b" -> "?a=b", "?a=b&password=x" -> "?a=b".
    std::size_t begin = from;
    while (begin > 0 && std::isalpha(static_cast<unsigned char>(url[begin - 1]))) --begin;
    std::size_t whole_end = end;
    if (whole_end < url.size() && url[whole_end] == '&') ++whole_end;
    else if (begin > 0 && (url[begin - 1] == '&' || url[begin - 1] == '?')) --begin;
    if (spans.empty() || i >= spans.back().end) spans.push_back({i, end, begin, whole_end});
    from = std::max(from, end > 8 ? end - 8 : 0);
  }
  return spans;
}

// Replaces the passwords of `url` by `mask`, or removes them (empty mask).
std::string without_password(const std::string& url, const std::string& mask) {
  std::string out = url;
  auto spans = password_spans(url);
  for (auto it = spans.rbegin(); it != spans.rend(); ++it) {
    if (mask.empty()) out.erase(it->whole_begin, it->whole_end - it->whole_begin);
    else out.replace(it->begin, it->end - it->begin, mask);
  }
  return out;
}

}  // namespace

namespace {
std::mutex noted_mutex;
std::vector<std::string>& noted() {
  static std::vector<std::string> urls;
  return urls;
}
}  // namespace

void note_secrets_of(const std::string& url) {
  if (url.size() > kLongestShown || password_spans(url).empty()) return;
  std::lock_guard lock(noted_mutex);
  if (std::find(noted().begin(), noted().end(), url) == noted().end()) noted().push_back(url);
}

std::string without_noted_secrets(std::string text) {
  std::lock_guard lock(noted_mutex);
  for (const auto& url : noted()) text = without_secrets_of(url, text);
  return text;
}

std::string redacted_url(const std::string& url) {
  if (url.size() > kLongestShown) return "(a storage URL of " + std::to_string(url.size()) + " characters)";
  return without_password(url, "***");
}

std::string url_without_password(const std::string& url) { return without_password(url, ""); }

std::string without_secrets_of(const std::string& url, const std::string& text) {
  std::vector<std::string> secrets;
  for (const Span& s : password_spans(url)) {
    const std::string p = url.substr(s.begin, s.end - s.begin);
    secrets.push_back(p);
    std::string decoded;  // as libpq quotes it after decoding %XX
    for (std::size_t k = 0; k < p.size(); ++k) {
      auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
      if (p[k] == '%' && k + 2 < p.size() && hex(p[k + 1]) && hex(p[k + 2])) {
        decoded += static_cast<char>(std::stoi(p.substr(k + 1, 2), nullptr, 16));
        k += 2;
      } else {
        decoded += p[k];
      }
    }
    secrets.push_back(decoded);
    // what a parser that stopped at a '/', '@' or ':' inside it would quote
    std::size_t start = 0;
    for (std::size_t k = 0; k <= p.size(); ++k)
      if (k == p.size() || p[k] == '/' || p[k] == '@' || p[k] == ':') {
        if (k > start) secrets.push_back(p.substr(start, k - start));
        start = k + 1;
      }
  }
  // Longest first, so that a piece does not break up a whole one.
  std::sort(secrets.begin(), secrets.end(), [](const auto& a, const auto& b) { return a.size() > b.size(); });
  std::string out = text;
  for (const std::string& secret : secrets) {
    if (secret.size() < 3) continue;  // too short to find without garbling the message
    for (std::size_t at = 0; (at = out.find(secret, at)) != std::string::npos; at += 3)
      out.replace(at, secret.size(), "***");
  }
  return out;
}

}  // namespace caviar
