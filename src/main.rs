fn main() {
    leptos::mount::mount_to_body(tenantscope::App);
}
