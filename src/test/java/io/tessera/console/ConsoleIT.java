package io.tessera.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.endsWith;
import static org.hamcrest.Matchers.nullValue;

import io.tessera.adapters.Archives;
import io.tessera.api.admin.AdminApi;
import io.tessera.testing.NeedsServices;
import io.tessera.testing.Replica;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.logging.Level;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.Dimension;
import org.openqa.selenium.Keys;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;
import org.openqa.selenium.logging.LoggingPreferences;
import org.openqa.selenium.support.ui.ExpectedConditions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;

/**
 * The web console in a real browser: Debian's chromium, headless, through its chromedriver (paths set, so Selenium
 * Manager never looks for one on the network), against the packaged service on Postgres and Redis. Screenshots of
 * each view land in target/console-screenshots/.
 */
@NeedsServices
class ConsoleIT {
    private static final String ADMIN = "console-it-admin";
    private static final Path SHOTS = Path.of("target/console-screenshots");
    private static final Duration WAIT = Duration.ofSeconds(20);
    private static Replica service;
    private static Path adapterZip;
    private ChromeDriver browser;
    private WebDriverWait wait;

    @BeforeAll
    static void start() throws Exception {
        String pg = System.getenv("TESSERA_TEST_PG_URL");
        assertThat(pg).as("TESSERA_TEST_PG_URL (see .ci/services)").isNotBlank();
        service = Replica.start("console", Map.of("quarkus.datasource.jdbc.url", pg,
                "quarkus.datasource.username", System.getenv().getOrDefault("TESSERA_TEST_PG_USER", "tessera"),
                "quarkus.redis.hosts", System.getenv().getOrDefault("TESSERA_TEST_REDIS_URL", ""),
                "tessera.security.admin-key", ADMIN, "tessera.registry.seed-dir", "",
                "tessera.store.root", "target/it-console-store", "tessera.registry.work-dir", "target/it-console-work"),
                Duration.ofMinutes(3));
        Files.createDirectories(SHOTS);
        adapterZip = Path.of("target/it-console-research-lora.zip").toAbsolutePath();
        Files.write(adapterZip, Archives.zip(Archives.filesOf(AdminApi.SEED.resolve("research-lora"))));
    }

    @AfterAll
    static void stop() throws InterruptedException {
        Replica.closeAll(service);
    }

    @BeforeEach
    void openBrowser() {
        ChromeOptions options = new ChromeOptions();
        options.setBinary(System.getProperty("tessera.it.chromium", "/usr/bin/chromium"));
        // root in a container has no user namespace for chromium's sandbox
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,800");
        LoggingPreferences logs = new LoggingPreferences();
        logs.enable(LogType.BROWSER, Level.ALL);
        options.setCapability("goog:loggingPrefs", logs);
        ChromeDriverService driver = new ChromeDriverService.Builder()
                .usingDriverExecutable(new File(System.getProperty("tessera.it.chromedriver", "/usr/bin/chromedriver")))
                .usingAnyFreePort().build();
        browser = new ChromeDriver(driver, options);
        // tables are drawn afresh after each change: an element found a moment before may be gone
        wait = (WebDriverWait) new WebDriverWait(browser, WAIT).ignoring(StaleElementReferenceException.class);
        browser.get(service.url() + "/console");
    }

    @AfterEach
    void closeBrowser() {
        if (browser == null) {
            return;
        }
        try {
            // the Content-Security-Policy held: nothing the console does was refused by it
            List<String> refused = browser.manage().logs().get(LogType.BROWSER).getAll().stream().map(LogEntry::getMessage)
                    .filter(m -> m.contains("Content Security Policy")).toList();
            assertThat(refused).isEmpty();
        } finally {
            browser.quit();
        }
    }

    @Test
    void aTenantUploadsActivatesStreamsAndComparesAndMarkupStaysText() throws Exception {
        String[] tenant = newTenant("console");
        login(tenant[1]);
        assertThat(byTestId("whoami").getText()).isEqualTo("tenant " + tenant[0]);
        assertThat(byTestId("nav-tenants").isDisplayed()).as("admin views are hidden from tenants").isFalse();

        // two versions through the file input, each with its progress bar run to the end; then v1 made active
        upload("coder");
        WebElement row = adapterRow("coder");
        assertThat(row.getText()).contains("coder", "LORA", "v1");
        upload("coder");
        wait.until(d -> "2".equals(adapterRow("coder").getDomAttribute("data-active-version")));
        new Select(adapterRow("coder").findElement(By.cssSelector("[data-testid=version-select]"))).selectByValue("1");
        adapterRow("coder").findElement(By.cssSelector("[data-testid=activate]")).click();
        wait.until(d -> "1".equals(adapterRow("coder").getDomAttribute("data-active-version")));
        screenshot("adapters");

        // a refusal quoting markup from the request shows the markup as text, and adds no element
        String markup = "<img src=x id=injected>";
        byTestId("upload-name").clear();
        byTestId("upload-name").sendKeys(markup);
        byTestId("upload-file").sendKeys(adapterZip.toString());
        wait.until(ExpectedConditions.attributeToBe(byTestId("upload-progress"), "data-state", "failed"));
        assertThat(byTestId("upload-status").getText()).contains(markup).contains("is not allowed");
        assertThat(browser.findElements(By.id("injected"))).isEmpty();
        byTestId("upload-name").clear();

        // one stream: the base model answers this prompt with markup of its own, shown as the text it is
        byTestId("nav-playground").click();
        wait.until(d -> !new Select(byTestId("model")).getOptions().stream()
                .filter(o -> "coder@2".equals(o.getDomAttribute("value"))).toList().isEmpty());
        new Select(byTestId("model")).selectByValue("demo-llama");
        byTestId("max-tokens").clear();
        byTestId("max-tokens").sendKeys("24");
        byTestId("prompt").sendKeys("<script>");
        byTestId("lm-infinite").click();
        byTestId("send").click();
        String served = service.as(tenant[1]).contentType("application/json")
                .body(Map.of("model", "demo-llama", "prompt", "<script>", "max_tokens", 24, "temperature", 0, "top_p", 1,
                        "attention", Map.of("type", "lm-infinite")))
                .post("/v1/completions").then().statusCode(200).extract().path("choices[0].text");
        assertThat(served).containsPattern("<[a-z]+>");
        assertThat(streamed("output").strip()).isEqualTo(served.strip());
        assertThat(browser.findElements(By.cssSelector("[data-testid=output] *"))).isEmpty();

        // the same prompt to two models at once
        byTestId("lm-infinite").click();
        byTestId("prompt").clear();
        byTestId("prompt").sendKeys("Returns the number of elements in this");
        byTestId("compare").click();
        new Select(byTestId("model-right")).selectByValue("coder@2");
        new Select(byTestId("model")).selectByValue("demo-llama");
        byTestId("send").click();
        String left = streamed("compare-left");
        String right = streamed("compare-right");
        assertThat(left).isNotEqualTo(right);   // the base and an adapter version answer differently
        screenshot("playground");

        // usage over time: the requests above reach the hourly chart once the service has flushed them
        byTestId("nav-usage").click();
        wait.until(d -> {
            byTestId("usage-refresh").click();
            String requests = byTestId("usage-chart-hour").getDomAttribute("data-requests");
            return requests != null && Integer.parseInt(requests) >= 4;   // three from the console, one from the test
        });
        assertThat(byTestId("usage-chart-day").getDomAttribute("data-points")).isNotEqualTo("0");
        wait.until(d -> !browser.findElements(By.cssSelector("[data-testid=usage-row][data-model='coder@2']")).isEmpty());
        screenshot("usage");

        byTestId("nav-live").click();
        wait.until(d -> byTestId("live-running").getText().matches("\\d+"));
        assertThat(byTestId("live-resident-bytes").getText()).contains(" of ");
        screenshot("live");
    }

    @Test
    void theAdminCreatesAndDeletesATenantAndARevokedKeyIsRefused() throws Exception {
        String[] holder = newTenant("keys");
        // by keyboard: Enter logs in, focus lands on the navigation and Tab walks it
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("[data-testid=api-key]")))
                .sendKeys(ADMIN, Keys.ENTER);
        wait.until(ExpectedConditions.textToBe(By.cssSelector("[data-testid=whoami]"), "admin"));
        assertThat(browser.switchTo().activeElement().getDomAttribute("data-testid")).isEqualTo("nav-adapters");
        browser.switchTo().activeElement().sendKeys(Keys.TAB);
        assertThat(browser.switchTo().activeElement().getDomAttribute("data-testid")).isEqualTo("nav-tenants");

        byTestId("nav-tenants").click();
        String doomed = "doomed-" + UUID.randomUUID().toString().substring(0, 8);
        byTestId("tenant-name").sendKeys(doomed);
        byTestId("tenant-create").click();
        wait.until(ExpectedConditions.textToBe(By.id("issued-tenant"), doomed));
        assertThat(byTestId("issued-key").getText()).isNotBlank();
        WebElement doomedRow = tenantRow(doomed);
        doomedRow.findElement(By.cssSelector("[data-testid=tenant-delete]")).click();
        confirm();
        wait.until(ExpectedConditions.stalenessOf(doomedRow));
        assertThat(browser.findElements(By.cssSelector("[data-testid=tenant-row][data-name='" + doomed + "']"))).isEmpty();
        service.as(ADMIN).get("/v1/admin/tenants/" + doomed + "/keys").then().statusCode(404);

        // a second key for a tenant: it works, is revoked in the console, and the next call with it is refused
        tenantRow(holder[0]).findElement(By.cssSelector("[data-testid=tenant-keys]")).click();
        wait.until(ExpectedConditions.textToBe(By.id("keys-title"), "Keys of " + holder[0]));
        byTestId("key-issue").click();
        wait.until(d -> browser.findElements(By.cssSelector("[data-testid=key-row]")).size() == 2);
        String second = byTestId("issued-key").getText();
        service.as(second).get("/v1/models").then().statusCode(200);
        List<WebElement> keys = browser.findElements(By.cssSelector("[data-testid=key-row]"));
        keys.get(keys.size() - 1).findElement(By.cssSelector("[data-testid=key-revoke]")).click();
        confirm();
        wait.until(d -> browser.findElements(By.cssSelector("[data-testid=key-revoke]")).size() == 1);
        service.as(second).get("/v1/models").then().statusCode(401);
        screenshot("tenants");

        byTestId("logout").click();
        submitKey(second);
        wait.until(d -> !byTestId("login-error").getText().isEmpty());
        assertThat(byTestId("login-error").getText()).contains("invalid API key");
        screenshot("login");

        // the admin pins and unpins a tenant's adapter and deletes it after confirming; in a narrow window
        service.as(ADMIN).multiPart("file", "a.zip", Files.readAllBytes(adapterZip), "application/octet-stream")
                .multiPart("name", "held").multiPart("tenant", holder[0]).post("/v1/admin/adapters").then().statusCode(201);
        login(ADMIN);
        browser.manage().window().setSize(new Dimension(420, 800));
        new Select(byTestId("adapters-tenant")).selectByValue(holder[0]);
        adapterRow("held").findElement(By.cssSelector("[data-testid=pin]")).click();
        wait.until(d -> adapterRow("held").getText().contains("yes"));
        screenshot("adapters-narrow");
        adapterRow("held").findElement(By.cssSelector("[data-testid=unpin]")).click();
        wait.until(d -> !adapterRow("held").findElements(By.cssSelector("[data-testid=pin]")).isEmpty());
        WebElement held = adapterRow("held");
        held.findElement(By.cssSelector("[data-testid=delete]")).click();
        confirm();
        wait.until(ExpectedConditions.stalenessOf(held));
        assertThat(browser.findElements(By.cssSelector("[data-testid=adapter-row]"))).isEmpty();
        service.as(ADMIN).get("/v1/admin/adapters/held?tenant=" + holder[0]).then().statusCode(404);
    }

    @Test
    void aFileDroppedOnTheUploadBoxGoesUpAndItsRefusalIsShownAsTheServiceWordsIt() {
        String[] tenant = newTenant("drop");
        login(tenant[1]);
        byTestId("upload-name").sendKeys("dropped");
        // what a drag from the desktop delivers: a drop event whose dataTransfer holds the file
        browser.executeScript("const dt = new DataTransfer();"
                + "dt.items.add(new File(['not an archive'], 'notes.txt', {type: 'text/plain'}));"
                + "arguments[0].dispatchEvent(new DragEvent('drop', {dataTransfer: dt, bubbles: true, cancelable: true}));",
                byTestId("dropzone"));
        wait.until(ExpectedConditions.attributeToBe(byTestId("upload-progress"), "data-state", "failed"));
        String refusal = service.as(tenant[1]).multiPart("file", "notes.txt", "not an archive".getBytes(), "text/plain")
                .multiPart("name", "dropped").post("/v1/admin/adapters").then().statusCode(400).extract().path("error.message");
        assertThat(byTestId("upload-status").getText()).isEqualTo(refusal);
        assertThat(browser.findElements(By.cssSelector("[data-testid=adapter-row]"))).isEmpty();
    }

    @Test
    void theConsoleHasItsSecurityHeadersAndTheApiKeepsItsOwn() {
        service.as(ADMIN).redirects().follow(false).get("/console").then().statusCode(302)
                .header("Location", endsWith("/console/"));
        service.as(ADMIN).get("/console/").then().statusCode(200)
                .header("Content-Security-Policy", containsString("script-src 'self';"))
                .header("Content-Security-Policy", containsString("frame-ancestors 'none'"))
                .header("X-Content-Type-Options", "nosniff").header("Referrer-Policy", "no-referrer");
        service.as(ADMIN).get("/v1/models").then().statusCode(200)
                .header("Content-Security-Policy", nullValue()).header("Referrer-Policy", nullValue());
    }

    private static String[] newTenant(String prefix) {
        String name = prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
        String key = service.as(ADMIN).contentType("application/json").body(Map.of("name", name))
                .post("/v1/admin/tenants").then().statusCode(201).extract().path("api_key");
        return new String[] {name, key};
    }

    private WebElement byTestId(String id) {
        return browser.findElement(By.cssSelector("[data-testid='" + id + "']"));
    }

    private void login(String key) {
        submitKey(key);
        wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("[data-testid=nav-adapters]")));
    }

    private void submitKey(String key) {
        WebElement field = wait.until(ExpectedConditions.visibilityOfElementLocated(By.cssSelector("[data-testid=api-key]")));
        field.clear();
        field.sendKeys(key);
        byTestId("login").click();
    }

    private void upload(String name) {
        WebElement field = byTestId("upload-name");
        field.clear();
        field.sendKeys(name);
        byTestId("upload-file").sendKeys(adapterZip.toString());
        wait.until(ExpectedConditions.attributeToBe(byTestId("upload-progress"), "data-state", "done"));
        assertThat(byTestId("upload-progress").getDomProperty("value")).isEqualTo("100");
    }

    private WebElement adapterRow(String name) {
        return wait.until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("[data-testid=adapter-row][data-name='" + name + "']")));
    }

    private WebElement tenantRow(String name) {
        return wait.until(ExpectedConditions.presenceOfElementLocated(
                By.cssSelector("[data-testid=tenant-row][data-name='" + name + "']")));
    }

    private void confirm() {
        wait.until(ExpectedConditions.elementToBeClickable(By.cssSelector("[data-testid=confirm-ok]"))).click();
    }

    /** Waits for a stream to end in a <pre>; it arrived in more than one piece, and its text is returned. */
    private String streamed(String testId) {
        wait.until(ExpectedConditions.attributeToBe(byTestId(testId), "data-state", "done"));
        WebElement out = byTestId(testId);
        assertThat(Integer.parseInt(out.getDomAttribute("data-chunks"))).as("chunks streamed into " + testId).isGreaterThan(1);
        assertThat(out.getText()).isNotBlank();
        return out.getText();
    }

    private void screenshot(String name) throws IOException {
        Files.write(SHOTS.resolve(name + ".png"), browser.getScreenshotAs(OutputType.BYTES));
    }
}
