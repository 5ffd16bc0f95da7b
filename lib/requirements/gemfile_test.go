package requirements_test

import (
	"strings"
	"testing"
)

const railsGemfile = `# frozen_string_literal: true
source "https://rubygems.org"

ruby "3.2.2"

# Bundle edge Rails instead: gem "rails", github: "rails/rails", branch: "main"
gem "rails", "~> 7.1.2"
gem "sprockets-rails"
gem "pg", "~> 1.1"
gem "puma", ">= 5.0"
gem "tzinfo-data", platforms: %i[ windows jruby ]
gem "bootsnap", require: false

group :development, :test do
  # See https://guides.rubyonrails.org/debugging_rails_applications.html#debugging-with-the-debug-gem
  gem "debug", platforms: %i[ mri windows ]
end

group :development do
  gem "web-console"
end
`

func TestCheckGemfileAccepts(t *testing.T) {
	runCheckCases(t, "ruby", []checkCase{
		{name: "empty", file: ""},
		{name: "rails", file: railsGemfile},
		{name: "single quotes and rockets", file: "source 'https://rubygems.org'\ngem 'sinatra', '~> 3.0', '>= 3.0.1'\ngem 'x', :require => false, :group => [:a, :b]\n"},
		{name: "options over several lines", file: "gem \"x\",\n  git: \"https://github.com/a/b.git\",\n  branch: \"main\"\n"},
		{name: "list over several lines", file: "gem 'x', '~> 1.0', platforms: [:mri,\n  :jruby]\n"},
		{name: "backslash continuation", file: "gem 'x', \\\n  '1.0'\n"},
		{name: "git remotes", file: "gem 'a', git: 'git@github.com:a/b.git', tag: 'v1'\ngem 'b', github: 'a/b', ref: 'abc123'\ngem 'c', git: 'ssh://git@example.com/c.git'\n"},
		{name: "gem source", file: "gem 'private', source: 'https://gems.example.com'\n"},
		{name: "blocks", file: "platforms :jruby do\n  gem 'x'\nend\nsource 'https://gems.example.com' do\n  gem 'y'\nend\ngroup :test, optional: true do\nend\n"},
		{name: "ruby with engine", file: "ruby '3.2.0', engine: 'jruby', engine_version: '9.4.0.0'\n"},
		{name: "CRLF", file: "source 'https://rubygems.org'\r\ngem 'x'\r\n"},
		{name: "byte order mark", file: "\ufeffgem 'x'\n"},
	})
}

func TestCheckGemfileRefuses(t *testing.T) {
	runCheckCases(t, "ruby", []checkCase{
		{"path option", "gem 'x'\ngem 'y', path: '../y'\n", "Gemfile line 2: path: is not allowed: it reads a local folder"},
		{"path option with rocket", "gem 'y', :path => '../y'\n", "Gemfile line 1: path: is not allowed: it reads a local folder"},
		{"path block", "path '../x' do\nend\n", "Gemfile line 1: path is not allowed: it reads a local folder"},
		{"gemspec", "source 'https://rubygems.org'\ngemspec\n", "Gemfile line 2: gemspec is not allowed: it reads a local .gemspec file"},
		{"eval_gemfile", "eval_gemfile 'other'\n", "Gemfile line 1: eval_gemfile is not allowed: it reads another file"},
		{"backticks", "gem 'x', `cat VERSION`\n", "Gemfile line 1: backticks are not allowed"},
		{"system", "system('ls')\n", "Gemfile line 1: system is not allowed"},
		{"system after a semicolon", "gem 'x'; system 'y'\n", "Gemfile line 1: system is not allowed"},
		{"exec", "exec 'sh'\n", "Gemfile line 1: exec is not allowed"},
		{"percent x", "v = %x(ls)\n", "Gemfile line 1: %x is not allowed"},
		{"File", "gem 'x', File.read('VERSION')\n", "Gemfile line 1: File is not allowed"},
		{"IO", "IO.read('x')\n", "Gemfile line 1: IO is not allowed"},
		{"require", "require 'json'\n", "Gemfile line 1: require is not allowed"},
		{"interpolation", "gem \"x#{1}\"\n", "Gemfile line 1: string interpolation is not allowed"},
		{"git_source", "git_source(:github) { |repo| \"https://github.com/#{repo}.git\" }\n", "Gemfile line 1: git_source is not supported: use the git: or github: option of gem"},
		{"ruby file", "ruby file: '.ruby-version'\n", "Gemfile line 1: ruby file: is not allowed: it reads a local file"},
		{"file source", "source 'file:///srv/gems'\n", "Gemfile line 1: file: URLs are not allowed"},
		{"ftp source", "source 'ftp://gems.example.com'\n", `Gemfile line 1: source must be an http(s) URL, not "ftp://gems.example.com"`},
		{"local git", "gem 'x', git: '/srv/x.git'\n", `Gemfile line 1: git: "/srv/x.git" is a local path, which is not allowed`},
		{"file git", "gem 'x', git: 'file:///srv/x.git'\n", "Gemfile line 1: file: URLs are not allowed"},
		{"unknown option", "gem 'x', foo: 'bar'\n", "Gemfile line 1: gem option foo: is not supported"},
		{"bad version", "gem 'x', 'latest'\n", `Gemfile line 1: invalid version requirement "latest" for gem "x"`},
		{"bad gem name", "gem 'x y'\n", `Gemfile line 1: invalid gem name "x y"`},
		{"modifier", "gem 'x' if ENV['CI']\n", "Gemfile line 1: ENV is not allowed"},
		{"unknown statement", "install_if -> { true } do\nend\n", `Gemfile line 1: expected a statement (source, ruby, gem, group, platforms or end), found "install_if"`},
		{"assignment", "version = '1.0'\n", `Gemfile line 1: expected a statement (source, ruby, gem, group, platforms or end), found "version"`},
		{"two strings", "gem 'x'\n\n\ngem 'y' 'z'\n", `Gemfile line 4: expected the end of the statement, found string "z"`},
		{"unclosed block", "gem 'a'\ngroup :test do\n  gem 'x'\n", "Gemfile line 2: group block is never closed with end"},
		{"stray end", "gem 'x'\nend\n", "Gemfile line 2: end without an open block"},
		{"group without do", "group :a\n", "Gemfile line 1: group needs a do … end block here"},
		{"group without names", "group do\nend\n", `Gemfile line 1: expected a group name symbol, found "do"`},
		{"gem without name", "gem\n", "Gemfile line 1: expected a gem name string at the end of the statement"},
		{"unterminated string", "gem 'x\n", "Gemfile line 1: unterminated string"},
		{"unterminated list", "gem 'x', platforms: %i[a b\n", "Gemfile line 1: unterminated %i list"},
		{"github not owner/repo", "gem 'x', github: 'https://github.com/a/b'\n", `Gemfile line 1: github: expects "owner/repo"`},
		{"optional not a boolean", "group :a, optional: 'yes' do\nend\n", "Gemfile line 1: expected true or false"},
	})
}

func TestCheckGemfileNestedLists(t *testing.T) {
	runCheckCases(t, "ruby", []checkCase{
		{"nested brackets", "gem 'x', group: [[:a]]\n", "Gemfile line 1: nested lists are not supported"},
		{"deeply nested brackets", "gem 'x', group: " + strings.Repeat("[", 100000) + "\n", "Gemfile line 1: nested lists are not supported"},
		{"word list in a list", "gem 'x', group: [%i[a]]\n", "Gemfile line 1: nested lists are not supported"},
		{"many unterminated lists", strings.Repeat("gem 'x', group: %i[a\n", 20000), "Gemfile line 1: unterminated %i list"},
	})
}
