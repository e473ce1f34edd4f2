import { createApp } from 'vue';
import App from './App.vue';
import { DashboardStore } from './live/dashboard-store.js';
import './styles.css';

const store = new DashboardStore();
createApp(App, { store }).mount('#app');
store.start();
