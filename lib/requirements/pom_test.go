package requirements_test

import "testing"

func TestCheckPom(t *testing.T) {
	runCheckCases(t, "java", []checkCase{
		{name: "typical", file: `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0"
         xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
         xsi:schemaLocation="http://maven.apache.org/POM/4.0.0 https://maven.apache.org/xsd/maven-4.0.0.xsd">
  <modelVersion>4.0.0</modelVersion>
  <parent>
    <groupId>org.springframework.boot</groupId>
    <artifactId>spring-boot-starter-parent</artifactId>
    <version>3.2.0</version>
    <relativePath/> <!-- lookup parent from repository -->
  </parent>
  <groupId>com.example</groupId>
  <artifactId>action</artifactId>
  <version>1.0</version>
  <dependencies>
    <dependency>
      <groupId>com.google.code.gson</groupId>
      <artifactId>gson</artifactId>
      <version>2.10.1</version>
      <scope>compile</scope>
    </dependency>
  </dependencies>
  <repositories>
    <repository><id>central</id><url>https://repo.maven.apache.org/maven2</url></repository>
  </repositories>
</project>
`},
		{name: "system path", file: "<project>\n <dependencies>\n  <dependency>\n   <systemPath>/opt/x.jar</systemPath>\n  </dependency>\n </dependencies>\n</project>",
			want: "pom.xml line 4: <systemPath> is not allowed"},
		{name: "system scope", file: "<project><dependencies><dependency>\n<scope> system </scope>\n</dependency></dependencies></project>",
			want: "pom.xml line 2: <scope>system</scope> is not allowed"},
		{name: "modules", file: "<project>\n<modules>\n<module>core</module>\n</modules>\n</project>",
			want: "pom.xml line 3: <module> is not allowed: modules are local folders"},
		{name: "parent relative path", file: "<project><parent>\n<relativePath>../pom.xml</relativePath>\n</parent></project>",
			want: "pom.xml line 2: a parent <relativePath> is not allowed: leave it empty (<relativePath/>)"},
		{name: "file repository", file: "<project><repositories><repository>\n<url>file:///opt/repo</url>\n</repository></repositories></project>",
			want: "pom.xml line 2: file: URLs are not allowed"},
		{name: "doctype", file: "<?xml version=\"1.0\"?>\n<!DOCTYPE project [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n<project>&x;</project>",
			want: "pom.xml line 2: DOCTYPE declarations are not allowed"},
		{name: "wrong root", file: "<settings>\n</settings>",
			want: "pom.xml line 1: the root element must be <project>, not <settings>"},
		{name: "two roots", file: "<project/>\n<project/>",
			want: "pom.xml line 2: unexpected element <project> after the root element"},
		{name: "text after root", file: "<project/>\ntrailing",
			want: "pom.xml line 2: text outside the root element"},
		{name: "mismatched tags", file: "<project>\n<a>\n</b>\n</project>",
			want: "pom.xml line 3: invalid XML: element <a> closed by </b>"},
		{name: "undefined entity", file: "<project>\n<a>&foo;</a>\n</project>",
			want: "pom.xml line 2: invalid XML: invalid character entity &foo;"},
		{name: "unclosed root", file: "<project>\n<a/>",
			want: "pom.xml line 2: invalid XML: unexpected EOF"},
		{name: "empty", file: "",
			want: "pom.xml: no <project> element"},
	})
}
